"""Defaults the command line and the Python API of ``predict`` share."""

FRAME_STEP = 10       # videos: every N-th frame (command line, Predictor, the pipeline, annotate)
AU_THRESHOLD = 0.5    # AU on/off threshold on the sigmoid scores
