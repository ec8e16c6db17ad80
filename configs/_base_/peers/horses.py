# The horses regime of the MMPretrain peer rows, shared by every peer
# algorithm (configs/mmpretrain/*_horses-112x112.py): the CamVid regime's
# settings (./camvid.py: ResNet-18 with the 7x7 stem, batch 16, 112x112
# views, the optimiser, 400 iterations that the suite rescales) except the
# data: the 180 Weizmann horse train photographs (no labels) and a queue of
# one pass over them (176 keys). HORSE_ROOT moves the photographs.
_base_ = ['./camvid.py']
horse_root = '{{$HORSE_ROOT:data/weizmann_horse_seg}}'
peer_model = dict(queue_len=176)
peer_train_dataloader = dict(
    dataset=dict(
        data_prefix=dict(img_path=horse_root + '/images/train'),
        ann_file=horse_root + '/train.txt'))
