"""Check every prior file of the training images when a run starts."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from mmssl_seg.utils.errors import UserError


class PriorFileError(UserError, RuntimeError):
    """Prior files (saliency masks, auxiliary labels, region trees) that are
    missing, unreadable or of another size than their image."""


def _datasets(dataset):
    """The leaf datasets of a (possibly concatenated or repeated) one."""
    for inner in getattr(dataset, 'datasets', None) or []:
        yield from _datasets(inner)
    if hasattr(dataset, 'dataset'):
        yield from _datasets(dataset.dataset)
    elif not hasattr(dataset, 'datasets'):
        yield dataset


def _image_shape(path: str) -> tuple[int, int] | None:
    from PIL import Image
    try:
        with Image.open(path) as image:  # the header only
            return image.height, image.width
    except OSError:
        return None


def prior_problems(dataset, workers: int = 8) -> list[str]:
    """One line per image whose prior file, read by a transform of its
    dataset's pipeline that has ``check_prior``, is missing, unreadable or
    mis-sized (and per unreadable image)."""
    from rich.progress import track
    jobs = []
    for leaf in _datasets(dataset):
        pipeline = getattr(leaf, 'pipeline', None)
        checks = [t for t in getattr(pipeline, 'transforms', [])
                  if hasattr(t, 'check_prior')]
        if checks:
            jobs += [(leaf.get_data_info(i)['img_path'], checks)
                     for i in range(len(leaf))]

    def check(job):
        img_path, checks = job
        shape = _image_shape(img_path)
        if shape is None:
            return [f'image unreadable: {img_path}']
        return [p for p in (t.check_prior(img_path, shape) for t in checks)
                if p]

    with ThreadPoolExecutor(workers) as pool:
        results = pool.map(check, jobs)
        return [p for found in track(results, total=len(jobs),
                                     description='checking prior files',
                                     transient=True) for p in found]


@HOOKS.register_module()
class PriorFilesCheckHook(Hook):
    """Before the first iteration, reads the prior file of every training
    image (saliency mask, auxiliary labels, region tree) and stops the run
    with all problems listed at once, instead of crashing at the iteration
    that draws a bad image. ``tools/train.py`` adds it to every run."""
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        problems = prior_problems(runner.train_dataloader.dataset)
        if problems:
            shown = '\n  '.join(problems[:30])
            more = f'\n  ... and {len(problems) - 30} more' if len(
                problems) > 30 else ''
            raise PriorFileError(
                f'{len(problems)} problem(s) with the prior files of the '
                f'training images:\n  {shown}{more}\nRemake them with the '
                'prior tool (tools/priors/*.py) for these images.')
