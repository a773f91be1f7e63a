"""Suites from a folder: layouts, validation (every problem at once), VOC and COCO boxes
and the pointing game at the image's own scale, checked against hand-computed hits."""

import csv
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from folder_suite_helpers import build_suite, voc
from PIL import Image

from genlens.core.errors import ParameterError
from genlens.core.models import ModelSpec
from genlens.evaluation.cost import counted_passes, estimate_cost
from genlens.evaluation.metrics import MetricInput, metric
from genlens.evaluation.runner import (
    LoadedSuite,
    Sample,
    evaluate,
    load_rows,
    resolved_params,
    run_benchmark,
)
from genlens.evaluation.suites import folder
from genlens.evaluation.suites.folder import (
    SuiteFolderError,
    box_mask,
    coco_box,
    folder_suite,
    read_entries,
    voc_objects,
)


def test_folder_suite_scores_the_pointing_game_at_the_images_own_scale(tmp_path):
    expected = build_suite(tmp_path / "suite")
    suite = folder_suite(tmp_path / "suite")
    assert suite.name == "folder:suite" and "pointing-game" in suite.metrics
    loaded = LoadedSuite.load(str(tmp_path / "suite"), "cpu", ModelSpec("fmnist-cnn"))
    data = loaded.data
    assert data.images.shape == (7, 1, 32, 32)
    assert data.target.tolist() == [1, 1, 1, 2, 1, 0, 8]
    assert data.mask_present.tolist() == [True, True, True, True, False, False, True]
    assert torch.allclose(data.pixel_scale, torch.full((7,), 0.5))
    row = evaluate(loaded, "centre")
    assert row.images == expected["images"]
    assert row.metrics["pointing-game"].value == pytest.approx(expected["pointing_class_mean"])
    with pytest.raises(ParameterError, match="no classifier of its own"):
        LoadedSuite.load(str(tmp_path / "suite"), "cpu")
    # images 4 and 5 have no ground truth: a sample of only those cannot score the pointing game
    only_unannotated = next(
        seed for seed in range(100) if set(Sample(2, seed).indices(7).tolist()) == {4, 5}
    )
    with pytest.raises(ParameterError, match="no ground-truth masks for"):
        LoadedSuite.load(
            str(tmp_path / "suite"), "cpu", ModelSpec("fmnist-cnn"), Sample(2, only_unannotated)
        )


def test_pointing_tolerance_per_image():
    maps = torch.zeros(2, 20, 20)
    maps[:, 0, 0] = 1
    masks = torch.zeros(2, 20, 20, dtype=torch.bool)
    masks[:, 0, 10] = True  # 10 px from the peak
    inputs = MetricInput(None, torch.zeros(2, 1, 20, 20), maps, torch.zeros(2), masks)
    scaled = replace(inputs, pixel_scale=torch.tensor([0.7, 0.6]))
    assert metric("pointing-game").compute(scaled).tolist() == [1.0, 0.0]  # 10.5 px, 9 px
    assert metric("pointing-game").compute(inputs).tolist() == [0.0, 0.0]  # 15 * 20 / 224


def test_voc_objects_and_box_masks(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(voc([("cat", (2, 3, 4, 5), False), ("dog", (1, 1, 1, 1), True)]))
    cat, dog = voc_objects(path)
    assert (cat.name, cat.box, cat.difficult) == ("cat", (2.0, 3.0, 4.0, 5.0), False)
    assert dog.difficult
    mask = np.array(box_mask([cat.box], (8, 6)))
    assert mask.shape == (6, 8) and mask.sum() == 255 * 3 * 3
    assert mask[2:5, 1:4].all()  # rows 3..5 and cols 2..4, 1-based
    path.write_text("<annotation><object><name>cat</name></object>")
    with pytest.raises(ParameterError, match=r"a\.xml: not a VOC annotation"):
        voc_objects(path)


def test_a_malformed_manifest_gets_one_error_per_problem(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    Image.new("L", (8, 8), 9).save(root / "ok.png")
    (tmp_path / "secret.png").write_bytes(b"x")
    (root / "manifest.csv").write_text(
        "image,label,mask,colour\n"
        "missing.png,1,,\n"
        "ok.png,,,\n"
        "../secret.png,1,,\n"
        "ok.png,1,nomask.png,red\n"
    )
    with pytest.raises(SuiteFolderError) as caught:
        read_entries(root)
    problems = caught.value.problems
    assert problems == [
        "manifest.csv: unknown column(s) colour",
        "manifest.csv row 1: image file missing.png not found",
        "manifest.csv row 2: no label",
        "manifest.csv row 3: image ../secret.png is outside the suite folder",
        "manifest.csv row 4: mask file nomask.png not found",
    ]
    (root / "manifest.csv").unlink()
    (root / "manifest.json").write_text('[{"image": "ok.png", "label": 1, "box": "a.xml"}, 3]')
    with pytest.raises(SuiteFolderError, match="expected a list of objects"):
        read_entries(root)
    (root / "manifest.json").write_text('[{"image": "ok.png", "label": 1, "box": "a.xml"}]')
    with pytest.raises(SuiteFolderError, match=r"row 1: unknown key\(s\) box"):
        read_entries(root)
    (root / "manifest.json").write_text("[{")
    with pytest.raises(SuiteFolderError, match="not valid JSON"):
        read_entries(root)
    (root / "manifest.json").unlink()
    with pytest.raises(SuiteFolderError, match="no images"):
        read_entries(root)


def test_labels_masks_and_images_are_checked_against_the_model(tmp_path):
    root = tmp_path / "suite"
    root.mkdir()
    Image.new("L", (16, 16), 100).save(root / "a.png")
    Image.new("L", (8, 8), 255).save(root / "small.png")
    Image.new("L", (16, 16), 0).save(root / "empty.png")
    (root / "broken.png").write_bytes(b"\x89PNG not really")
    rows = [
        {"image": "a.png", "label": "12"},
        {"image": "a.png", "label": "Cat"},
        {"image": "a.png", "label": "Bag", "mask": "small.png"},
        {"image": "a.png", "label": "Bag", "mask": "empty.png"},
        {"image": "broken.png", "label": "Bag"},
    ]
    (root / "manifest.json").write_text(json.dumps(rows))
    with pytest.raises(SuiteFolderError) as caught:
        run_benchmark(str(root), "centre", tmp_path / "out", model=ModelSpec("fmnist-cnn"))
    assert not (tmp_path / "out").exists()  # nothing written
    problems = caught.value.problems
    assert problems[:4] == [
        "a.png: label 12 out of range 0..9",
        "a.png: label 'Cat' is not one of the model's classes",
        "small.png: mask is 8x8, its image a.png is 16x16",
        "empty.png: mask of a.png has no nonzero pixel",
    ]
    assert len(problems) == 5 and problems[4].startswith("broken.png:")


def test_image_folder_tree_and_a_seeded_sample(tmp_path):
    root = tmp_path / "tree"
    for label, count in (("Bag", 3), ("Sneaker", 2)):
        (root / label).mkdir(parents=True)
        for index in range(count):
            Image.new("L", (28, 28), 40 * index).save(root / label / f"{index}.png")
    (root / "Bag" / "notes.txt").write_text("not an image")
    entries = read_entries(root)
    assert [(e.image.name, e.label) for e in entries][:1] == [("0.png", "Bag")]
    assert len(entries) == 5
    suite = folder_suite(root)
    assert suite.metrics == ("deletion", "insertion")  # no ground truth: faithfulness only
    sample = Sample(3, seed=1)
    loaded = LoadedSuite.load(str(root), "cpu", ModelSpec("fmnist-cnn"), sample)
    assert len(loaded.data.images) == 3
    assert torch.equal(sample.indices(5), Sample(3, seed=1).indices(5))
    assert loaded.data.target.tolist() == [8 if i < 3 else 7 for i in sample.indices(5)]
    with pytest.raises(ParameterError, match="limit"):
        Sample(0)


def test_bench_cli_runs_a_folder_suite_with_a_model(tmp_path):
    from typer.testing import CliRunner

    from genlens.demo.cli import app

    expected = build_suite(tmp_path / "suite")
    out = tmp_path / "out"
    args = ["bench", "saliency", "--suite", str(tmp_path / "suite"), "--methods", "centre"]
    refused = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert refused.exit_code != 0 and "no classifier of its own" in str(refused.exception)
    assert not out.exists()
    run = [*args, "--model", "fmnist-cnn", "--out", str(out), "--device", "cpu"]
    estimated = CliRunner().invoke(app, [*run, "--estimate"])
    assert estimated.exit_code == 0, estimated.output
    assert (
        f"estimated cost of {expected['images']} images" in estimated.output
        and "total about" in estimated.output
    )
    assert not out.exists()
    result = CliRunner().invoke(app, run)
    assert result.exit_code == 0, result.output
    (row,) = load_rows(out / "results.jsonl")
    assert row.suite == "folder:suite" and row.images == expected["images"]
    assert row.metrics["pointing-game"].value == pytest.approx(expected["pointing_class_mean"])
    with (out / "leaderboard.csv").open(newline="") as handle:
        (line,) = csv.DictReader(handle)
    assert (line["method"], line["model"]) == ("centre", "fmnist-cnn")
    assert float(line["pointing-game"]) == pytest.approx(expected["pointing_class_mean"])


def test_counted_passes_counts_images_forward_and_backward():
    net = torch.nn.Linear(4, 2)
    with counted_passes(net) as passes:
        net(torch.zeros(3, 4, requires_grad=True)).sum().backward()
        with torch.no_grad():
            net(torch.zeros(5, 4))
    assert (passes.forwards, passes.backwards) == (8, 3)
    net(torch.zeros(2, 4))
    assert passes.forwards == 8  # the hook is gone


def test_cost_estimate_counts_each_methods_gradients(tmp_path):
    expected = build_suite(tmp_path / "suite")
    loaded = LoadedSuite.load(str(tmp_path / "suite"), "cpu", ModelSpec("fmnist-cnn"))
    centre, gradient, integrated = estimate_cost(loaded, "centre,gradient,integrated-gradients")
    assert (centre.images, centre.probe_images) == (expected["images"], 4)
    steps = resolved_params("integrated-gradients", {})["steps"]
    # metrics run without gradients: one backward per image for the gradient, one per step
    assert (centre.backwards_per_image, gradient.backwards_per_image) == (0, 1)
    assert integrated.backwards_per_image == steps
    assert gradient.forwards_per_image == centre.forwards_per_image + 1
    assert all(estimate.seconds > 0 for estimate in (centre, gradient, integrated))


def _coco(images: list[tuple[int, str]], annotations: list[tuple], side: int = 64) -> dict:
    """A COCO annotation file's data: ``images`` (id, file_name) of side x side pixels,
    ``annotations`` (image_id, category_id, bbox, iscrowd) over Trouser (1) and Bag (2)."""
    return {
        "images": [
            {"id": id_, "file_name": name, "width": side, "height": side} for id_, name in images
        ],
        "annotations": [
            {"id": index, "image_id": image, "category_id": category, "bbox": bbox, "iscrowd": c}
            for index, (image, category, bbox, c) in enumerate(annotations)
        ],
        "categories": [{"id": 1, "name": "Trouser"}, {"id": 2, "name": "Bag"}],
    }


def _pixels(rows: range, cols: range, side: int) -> np.ndarray:
    expected = np.zeros((side, side), bool)
    expected[rows.start : rows.stop, cols.start : cols.stop] = True
    return expected


def test_coco_boxes_cover_the_pixels_they_touch():
    # x 10.5 + w 5 ends at 15.5: 0-based columns 10..15 (floor .. ceil - 1); y 20 + h 3.2: 20..23
    assert coco_box([10.5, 20, 5, 3.2], "a") == (11.0, 21.0, 16.0, 24.0)  # VOC corners, 1-based
    mask = np.array(box_mask([coco_box([10.5, 20, 5, 3.2], "a")], (64, 64))) > 0
    assert np.array_equal(mask, _pixels(range(20, 24), range(10, 16), 64))
    # a box over the top-left edge is clipped to it, one over the far edges by the slicing
    mask = np.array(box_mask([coco_box([-2.5, 60, 4, 10], "a")], (64, 64))) > 0
    assert np.array_equal(mask, _pixels(range(60, 64), range(0, 2), 64))
    # an integer zero-width box touches no pixel; a negative width is malformed
    assert not np.array(box_mask([coco_box([3, 3, 0, 2], "a")], (64, 64))).any()
    with pytest.raises(ValueError, match=r"a: bbox \[1, 1, -2, 3\] has a negative width"):
        coco_box([1, 1, -2, 3], "a")
    with pytest.raises(ValueError, match=r"a: bbox \[1, 1, 2\] is not \[x, y, w, h\]"):
        coco_box([1, 1, 2], "a")


def test_a_coco_file_gives_the_masks_of_each_rows_class_parsed_once(tmp_path, monkeypatch):
    root = tmp_path / "coco"
    (root / "sub").mkdir(parents=True)
    for index, name in enumerate(("a.png", "b.png", "sub/c.png")):
        Image.new("L", (64, 64), 60 * index).save(root / name)
    annotations = [
        (10, 1, [10.5, 20, 5, 3.2], 0),  # a.png Trouser: rows 20..23, columns 10..15
        (10, 1, [0, 0, 64, 64], 1),  # a crowd over all of a.png: left out
        (10, 2, [40, 40, 8, 8], 0),  # a.png Bag: rows and columns 40..47
        (11, 1, [5, 5, 0, 4], 0),  # b.png Trouser touches no pixel: no ground truth
        (11, 2, [0, 0, 64, 64], 0),  # another class on b.png does not count
        (12, 1, [0, 0, 2, 64], 0),  # sub/c.png (matched by its path) Trouser: columns 0..1
    ]
    data = _coco([(10, "a.png"), (11, "b.png"), (12, "sub/c.png")], annotations)
    (root / "instances.json").write_text(json.dumps(data))
    (root / "manifest.csv").write_text(
        "image,label,boxes\n"
        "a.png,Trouser,instances.json\n"
        "a.png,8,instances.json\n"
        "b.png,Trouser,instances.json\n"
        "sub/c.png,Trouser,instances.json\n"
    )
    parsed, parse = [], folder.coco_images
    monkeypatch.setattr(folder, "coco_images", lambda path: parsed.append(path) or parse(path))
    suite = folder_suite(root)
    assert "pointing-game" in suite.metrics
    loaded = suite.load(ModelSpec("fmnist-cnn").load("cpu"))
    assert len(parsed) == 1  # four rows, one parse
    assert loaded.target.tolist() == [1, 8, 1, 1]
    assert loaded.mask_present.tolist() == [True, True, False, True]
    # fmnist-cnn sees 32 x 32: model pixel i is image pixel 2i + 1 (nearest), so image rows
    # 20..23 are model rows 10..11, columns 10..15 model columns 5..7, 40..47 are 20..23, 0..1 is 0
    assert torch.equal(loaded.masks[0], torch.from_numpy(_pixels(range(10, 12), range(5, 8), 32)))
    assert torch.equal(loaded.masks[1], torch.from_numpy(_pixels(range(20, 24), range(20, 24), 32)))
    assert not loaded.masks[2].any()
    assert torch.equal(loaded.masks[3], torch.from_numpy(_pixels(range(0, 32), range(0, 1), 32)))


def test_malformed_coco_files_each_get_their_own_problem(tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    Image.new("L", (64, 64), 9).save(root / "a.png")
    valid = _coco([(1, "a.png")], [(1, 1, [1, 1, 2, 2], 0)])
    files = {
        "notjson.json": "{",
        "nokeys.json": json.dumps({key: valid[key] for key in ("images", "annotations")}),
        "nobbox.json": json.dumps({**valid, "annotations": [{"image_id": 1, "category_id": 1}]}),
        "negative.json": json.dumps(_coco([(1, "a.png")], [(1, 1, [1, 1, -2, 3], 0)])),
        "unknown.json": json.dumps(_coco([(1, "a.png")], [(2, 1, [1, 1, 2, 2], 0)])),
        "unlisted.json": json.dumps(_coco([(1, "other.png")], [])),
        "sized.json": json.dumps(_coco([(1, "a.png")], [], side=32)),
    }
    for name, text in files.items():
        (root / name).write_text(text)
    rows = [{"image": "a.png", "label": "Trouser", "boxes": name} for name in files]
    rows.append({"image": "a.png", "label": "Bag", "boxes": "notjson.json"})  # reported once
    (root / "manifest.json").write_text(json.dumps(rows))
    with pytest.raises(SuiteFolderError) as caught:
        folder_suite(root).load(ModelSpec("fmnist-cnn").load("cpu"))
    problems = caught.value.problems
    assert problems[0].startswith("notjson.json: not a COCO annotation file (Expecting")
    assert problems[1:] == [
        "nokeys.json: not a COCO annotation file (no categories list)",
        "nobbox.json: not a COCO annotation file (annotations[0] lacks bbox)",
        "negative.json: not a COCO annotation file (annotations[0]: bbox [1, 1, -2, 3] has a "
        "negative width or height)",
        "unknown.json: not a COCO annotation file (annotations[0]: image_id 2 is not in images)",
        "unlisted.json: no image a.png in images",
        "sized.json: image a.png is 32x32 in images, 64x64 on disk",
    ]


def test_boxes_files_must_be_voc_xml_or_coco_json(tmp_path):
    root = tmp_path / "suite"
    root.mkdir()
    Image.new("L", (8, 8), 9).save(root / "a.png")
    (root / "a.txt").write_text("boxes")
    (root / "a.XML").write_text(voc([]))
    (root / "manifest.csv").write_text("image,label,boxes\na.png,1,a.txt\na.png,1,a.XML\n")
    with pytest.raises(SuiteFolderError) as caught:
        read_entries(root)
    assert caught.value.problems == [
        "manifest.csv row 1: boxes file a.txt: expected .xml (VOC) or .json (COCO)"
    ]
