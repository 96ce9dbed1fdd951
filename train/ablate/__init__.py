"""``curate ablate``: build, train and evaluate several data recipes the same way, then report.

:mod:`train.ablate.arms` (what is compared), :mod:`train.ablate.runner` (the resumable loop),
:mod:`train.ablate.noise` (mean ± std and the seed-noise rule), :mod:`train.ablate.report`
(report.md / report.html) with :mod:`train.ablate.plots`.
"""
