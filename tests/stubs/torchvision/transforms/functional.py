"""``streaming.vision.base`` imports to_tensor; curate never calls it."""


def to_tensor(pic):
    raise NotImplementedError("torchvision stub: to_tensor is not available")
