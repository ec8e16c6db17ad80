"""The base of the transforms that load an image's offline prior: one way
to find, read and check the files (:mod:`mmssl_seg.structures`)."""
from __future__ import annotations

from typing import Any

from mmcv.transforms import BaseTransform


class LoadPriorFiles(BaseTransform):
    """Reads the prior files of an image from a prior folder.

    Subclasses name what they read in :meth:`read` (which raises
    ``FileNotFoundError`` / ``ValueError`` naming the file and the image)
    and where it goes in :meth:`put`. :meth:`check_prior` reads the same
    way without a pipeline, for the check of every training image when a
    run starts.

    Args:
        root: The prior tool's output folder.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def read(self, img_path: str, shape: tuple[int, int]) -> Any:
        raise NotImplementedError

    def put(self, results: dict, value: Any) -> None:
        raise NotImplementedError

    def check_prior(self, img_path: str, shape: tuple[int, int]
                    ) -> str | None:
        """What is wrong with the prior of an image of ``shape``, or
        None."""
        try:
            self.read(img_path, shape)
        except (FileNotFoundError, ValueError) as error:
            return str(error)
        return None

    def transform(self, results: dict) -> dict:
        self.put(results, self.read(results['img_path'],
                                    results['img'].shape[:2]))
        return results
