"""Checkpoints in one place: reading them safely and writing tensors-only
ones (:mod:`.io`), their key layouts and the extraction of parts
(:mod:`.layouts`), loading weights for evaluation (:mod:`.loading`) and the
converter that hands a pretraining to MMSeg (:mod:`.converter`)."""
