# Former entry point of Mix-and-Match tuning, kept so that commands and configs
# written against it keep working; the config itself is the renamed one below
# (MMSeg naming: {algo}_{backbone}_{N}xb{B}-{schedule}_{data}-{crop}).
_base_ = ['../mix_match/mix-match_vgg16-bn_1xb16-8k_voc12aug-512x512.py']
custom_imports = dict(imports=['mmssl_seg'], allow_failed_imports=False)
