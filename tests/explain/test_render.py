"""The pictures of an explanation: sizes, colours, and the number drawn in each grid cell."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnlab import explain
from cnnlab.explain.arithmetic import _num
from cnnlab.explain.render import COLORS, _Canvas, _text, draw_frame, render

X3 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
K2 = [[0, 1], [2, 3]]


def cell_as_drawn(image, box):
    return np.asarray(image.crop((box[0], box[1], box[2] + 1, box[3] + 1)))


def cell_with(text, box, fill, font, colour=COLORS["text"]):
    """A cell drawn the way the renderer draws one, holding ``text``: what the crop should equal."""
    size = box[2] - box[0]
    cell = Image.new("RGB", (size + 1, size + 1), COLORS["background"])
    draw = ImageDraw.Draw(cell)
    draw.rectangle((0, 0, size, size), fill=fill, outline=COLORS["line"])
    _text(draw, (size / 2, size / 2), text, fill=colour, font=font, anchor="mm")
    return np.asarray(cell)


def fill_of(image, box):
    return image.getpixel((box[0] + 2, box[1] + 2))


def assert_cells_hold(image, boxes, values, fills, font, colours=None):
    for key, box in boxes.items():
        text = _num(values[key])
        colour = (colours or {}).get(key, COLORS["text"])
        expected = cell_with(text, box, fills[key], font, colour)
        assert np.array_equal(cell_as_drawn(image, box), expected), (key, text)
        wrong = cell_with(_num(values[key] + 1), box, fills[key], font, colour)
        assert not np.array_equal(cell_as_drawn(image, box), wrong), (
            key
        )  # the comparison can tell numbers apart


def test_the_finished_convolution_draws_every_input_kernel_and_output_value():
    ex = explain.conv(X3, K2)
    image, layout = draw_frame(ex, None)
    assert image.size == (460, 246) and image.mode == "RGB"
    font = _Canvas(ex).font
    assert len(layout.input_boxes) == 9 and len(layout.kernel_boxes) == 4 and len(layout.output_boxes) == 4
    white = dict.fromkeys(layout.input_boxes, COLORS["cell"])
    assert_cells_hold(image, layout.input_boxes, ex.padded, white, font)
    assert_cells_hold(
        image,
        layout.kernel_boxes,
        ex.kernel.reshape(1, 2, 2),
        dict.fromkeys(layout.kernel_boxes, COLORS["cell"]),
        font,
    )
    assert_cells_hold(
        image, layout.output_boxes, ex.output, dict.fromkeys(layout.output_boxes, COLORS["done"]), font
    )


def test_a_step_shades_the_window_the_kernel_and_the_current_output():
    ex = explain.conv(X3, K2, padding=1, stride=2)
    image, layout = draw_frame(ex, 2)  # y[1,0] = 0×0 + 3×1 + 0×2 + 6×3 = 21
    window = {(0, 2, 0), (0, 2, 1), (0, 3, 0), (0, 3, 1)}
    assert set(ex.steps[2].input_cells) == window
    for key, box in layout.input_boxes.items():
        padding = key[1] in (0, 4) or key[2] in (0, 4)
        expected = COLORS["window"] if key in window else COLORS["padding"] if padding else COLORS["cell"]
        assert fill_of(image, box) == expected, key
    assert all(fill_of(image, box) == COLORS["window"] for box in layout.kernel_boxes.values())
    fills = [fill_of(image, layout.output_boxes[(0, i, j)]) for i in range(2) for j in range(2)]
    assert fills == [COLORS["done"], COLORS["done"], COLORS["current"], COLORS["cell"]]
    # the padded zeros are drawn faint, the values in the image dark; the weights sit in the window's corners
    font = _Canvas(ex).font
    box = layout.input_boxes[(0, 0, 0)]
    assert np.array_equal(
        cell_as_drawn(image, box), cell_with("0", box, COLORS["padding"], font, COLORS["faint"])
    )
    corner = np.asarray(image.crop((box[0], box[1], box[2], box[3])))  # no weight outside the window
    assert not np.any(np.all(corner == COLORS["weight"], axis=-1))
    inside = layout.input_boxes[(0, 3, 1)]  # holds 6, weight 3
    pixels = np.asarray(image.crop(inside))
    assert np.any(np.abs(pixels.astype(int) - COLORS["weight"]).sum(-1) < 60)


def test_max_pooling_colours_the_winner():
    ex = explain.pool([[1, 3, 2, 0], [4, 6, 5, 7], [8, 1, 0, 2], [3, 9, 4, 1]], 2)
    image, layout = draw_frame(ex, 3)  # max(0, 2, [4], 1)
    assert fill_of(image, layout.input_boxes[(0, 3, 2)]) == COLORS["winner"]
    assert [fill_of(image, layout.input_boxes[k]) for k in [(0, 2, 2), (0, 2, 3), (0, 3, 3)]] == [
        COLORS["window"]
    ] * 3
    assert layout.kernel_boxes == {}
    font = _Canvas(ex).font
    fills = {k: fill_of(image, b) for k, b in layout.input_boxes.items()}
    assert_cells_hold(image, layout.input_boxes, ex.padded, fills, font)


def test_one_dimensional_cells_sit_on_one_row():
    ex = explain.conv([0, 1, 2, 3, 4], [1, -1], nd=1)
    image, layout = draw_frame(ex, None)
    assert sorted(layout.input_boxes) == [(0, 0, j) for j in range(5)]
    assert {b[1] for b in layout.input_boxes.values()} == {layout.input_boxes[(0, 0, 0)][1]}
    font = _Canvas(ex).font
    out = {k: v for k, v in np.ndenumerate(ex.output[:, None, :])}
    assert_cells_hold(
        image, layout.output_boxes, out, dict.fromkeys(layout.output_boxes, COLORS["done"]), font
    )


def test_the_gif_has_one_frame_per_output_value_and_the_finished_output(tmp_path):
    ex = explain.conv(X3, K2, padding=1, stride=2)
    first = render(ex, tmp_path / "conv.gif")
    assert [p.name for p in tmp_path.iterdir()] == ["conv.gif"]  # written beside, renamed into place
    with Image.open(tmp_path / "conv.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == len(ex.steps) + 1 == 5
        assert gif.size == first.size == draw_frame(ex, 0)[0].size
        assert gif.info["loop"] == 0 and gif.info["duration"] == 900
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(gif.convert("RGB"))
    layout = draw_frame(ex, 0)[1]
    for i, frame in enumerate(frames):
        for j, index in enumerate(s.output_index for s in ex.steps):
            box = layout.output_boxes[index]
            want = COLORS["done"] if j < i or i == 4 else COLORS["current"] if j == i else COLORS["cell"]
            got = frame.getpixel((box[0] + 2, box[1] + 2))
            assert sum(abs(a - b) for a, b in zip(got, want)) < 24, (i, j)  # a 32-colour palette


def test_a_png_is_one_frame(tmp_path):
    ex = explain.pool([[1, 3], [4, 2]], 2, mode="avg")
    image = render(ex, tmp_path / "pool.png", step=None)
    with Image.open(tmp_path / "pool.png") as png:
        assert png.format == "PNG" and png.size == image.size == (360, 198)
        assert np.array_equal(np.asarray(png.convert("RGB")), np.asarray(image))


def test_errors(tmp_path):
    with pytest.raises(
        ValueError, match="save_image: can't tell an image format from '.*conv.bmpx'; use a suffix"
    ):
        render(explain.conv(X3, K2), tmp_path / "conv.bmpx")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(
        ValueError, match="render: 3-D explanations are text only; print the explanation of conv3d"
    ):
        draw_frame(explain.conv(np.zeros((2, 2, 2)), np.ones((1, 1, 1)), nd=3))
    with pytest.raises(
        ValueError, match=r"render: expected step to be an index into the 4 steps, or None, got 4"
    ):
        draw_frame(explain.conv(X3, K2), 4)
