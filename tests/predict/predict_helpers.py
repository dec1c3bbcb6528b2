"""Helpers of the predictor tests (imported by name: conftest modules of several
test folders would shadow each other)."""
import numpy as np

ASTRONAUT_FACE = (182, 64, 83, 107)


def box_iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def write_video(path: str, frames: int = 10, side: int = 320, fps: int = 5) -> str:
    """An MPEG-4 clip of the astronaut sliding right by 8 px a frame (PyAV)."""
    import av
    from skimage import data

    img = data.astronaut()
    with av.open(path, "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            crop = np.ascontiguousarray(img[40:40 + side, 60 + 8 * i:60 + 8 * i + side])
            for packet in stream.encode(av.VideoFrame.from_ndarray(crop, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
