"""Every trainer of the course, one module each, all run through ``python -m lib.train NAME``.

====================  =========================================================================
``classifiers``       the course classifiers behind the image metrics (digits-cnn, shapes-cnn)
``clip_network``      the course clip network behind the video metrics (street-c3d)
``street_segmenter``  the course segmentation network behind the segmentation score
                      (street-segmenter)
``scene_layout``      CartoonGAN's content network for the cartoon world (scene-layout)
``dcgan``             the small class-conditional DCGAN and its checkpoints along training
``vid2vid``           vid2vid on the toy street, with its ablations
``dance``             Everybody Dance Now on the dancing puppet, and the keypoint regressor
``cartoongan``        CartoonGAN on procedural cartoons and photos, and its ablations
====================  =========================================================================
"""

RECIPES = (
    "classifiers",
    "clip_network",
    "street_segmenter",
    "scene_layout",
    "dcgan",
    "vid2vid",
    "dance",
    "cartoongan",
)
