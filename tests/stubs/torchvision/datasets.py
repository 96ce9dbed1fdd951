"""``streaming.vision.base`` subclasses VisionDataset; curate never instantiates it."""


class VisionDataset:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("torchvision stub: streaming's vision datasets are not available")
