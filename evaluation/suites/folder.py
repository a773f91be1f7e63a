"""Benchmark suites from a folder on disk: the user's images, labels and ground truth.

Layouts, checked in this order:

* ``manifest.csv``: a header with ``image`` and ``label`` and optionally ``mask`` and
  ``boxes``, one row per image;
* ``manifest.json``: a list of objects with the same keys;
* an ImageFolder tree: ``LABEL/IMAGE`` (``.png``, ``.jpg``, ``.jpeg``, ``.webp``), no ground
  truth.

Paths are relative to the folder and may not leave it. ``label`` is a class index or one of the
model's label names. ``mask`` is a PNG of the image's size whose nonzero pixels are the
evidence. ``boxes`` is an annotation file whose boxes of the objects named like the label (the
model's label name for the row) make the mask:

* ``.xml``: a Pascal VOC annotation of the image; objects marked ``difficult`` are left out, as
  in VOC;
* ``.json``: a COCO annotation file (``images``, ``annotations``, ``categories``, as COCO ships
  them), usually shared by many rows and read once per load. The image is the entry of
  ``images`` whose ``file_name`` is the image's path relative to the folder or else its file
  name, and whose ``width`` x ``height`` is the image's; an object's class is its category's
  ``name``. Crowd annotations (``iscrowd: 1``) are left out, as in TorchRay's COCO pointing
  game. A COCO ``bbox`` ``[x, y, w, h]`` is in pixels from the image's top-left corner (0-based
  and continuous); the mask covers every pixel it touches, columns ``floor(x)`` to
  ``ceil(x + w) - 1`` and rows likewise. For COCO14 val, put ``val2014/`` and
  ``annotations/instances_val2014.json`` in the folder and write rows like
  ``val2014/COCO_val2014_000000000042.jpg,dog,,annotations/instances_val2014.json``.

An image whose objects of its class are all left out, or cover no pixel, has no ground truth
(TorchRay skips it in the pointing game). Images without ground truth count in the faithfulness
metrics only.

:func:`read_entries` checks the layout and every file it names, and :func:`folder_suite` the
labels against the model; both report every problem at once, each naming its file.
"""

import csv
import json
import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from PIL import Image

from genlens.core.data import load_image
from genlens.core.errors import ImageError, ParameterError
from genlens.core.models import Classifier
from genlens.evaluation.suites import Suite, SuiteData, get_suite, suite_names

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp"})
MANIFEST_KEYS = ("image", "label", "mask", "boxes")
FAITHFULNESS_METRICS = ("deletion", "insertion")
GROUND_TRUTH_METRICS = ("pointing-game", "relevance-mass", "relevance-rank")
BOXES_SUFFIXES = (".xml", ".json")

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in the image's own pixels (VOC's 1-based inclusive corners)."""


@dataclass(frozen=True)
class FolderEntry:
    """One image of a folder suite: paths inside the folder and the label as written."""

    image: Path
    label: str
    mask: Path | None = None
    boxes: Path | None = None


@dataclass(frozen=True)
class BoxObject:
    """An annotated object: its class name, its box and whether the ground truth leaves it out
    (``difficult``: VOC's difficult flag, COCO's ``iscrowd``)."""

    name: str
    box: Box
    difficult: bool


@dataclass(frozen=True)
class CocoImage:
    """One image of a COCO annotation file: its size (width, height) in pixels and objects."""

    size: tuple[int, int]
    objects: tuple[BoxObject, ...]


class SuiteFolderError(ParameterError):
    """A folder suite with problems; ``problems`` lists each one, naming its file."""

    def __init__(self, folder: Path, problems: list[str]):
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"suite folder {folder}: {len(problems)} problem(s)\n{listed}")


def read_entries(folder: str | Path) -> list[FolderEntry]:
    """The entries of a suite folder in file order; raises :class:`SuiteFolderError`."""
    root = Path(folder)
    if not root.is_dir():
        raise SuiteFolderError(root, [f"{root} is not a folder"])
    problems: list[str] = []
    if (root / "manifest.csv").is_file():
        rows = _csv_rows(root / "manifest.csv", problems)
        entries = _manifest_entries(root, "manifest.csv", rows, problems)
    elif (root / "manifest.json").is_file():
        rows = _json_rows(root / "manifest.json", problems)
        entries = _manifest_entries(root, "manifest.json", rows, problems)
    else:
        entries = _tree_entries(root)
    if not entries and not problems:
        problems.append("no images (expected manifest.csv, manifest.json or LABEL/IMAGE files)")
    if problems:
        raise SuiteFolderError(root, problems)
    return entries


def _csv_rows(path: Path, problems: list[str]) -> list[dict]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [key for key in ("image", "label") if key not in columns]
        if missing:
            problems.append(f"{path.name}: header lacks column(s) {', '.join(missing)}")
            return []
        unknown = [column for column in columns if column not in MANIFEST_KEYS]
        if unknown:
            problems.append(f"{path.name}: unknown column(s) {', '.join(unknown)}")
        return [{key: row[key] for key in columns if key in MANIFEST_KEYS} for row in reader]


def _json_rows(path: Path, problems: list[str]) -> list[dict]:
    try:
        rows = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: not valid JSON ({exc})")
        return []
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        problems.append(f"{path.name}: expected a list of objects")
        return []
    return rows


def _manifest_entries(
    root: Path, manifest: str, rows: list[dict], problems: list[str]
) -> list[FolderEntry]:
    entries = []
    for number, row in enumerate(rows, 1):
        where = f"{manifest} row {number}"
        unknown = sorted(set(row) - set(MANIFEST_KEYS))
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        paths = {key: _inside(root, row.get(key), where, key, problems) for key in MANIFEST_KEYS}
        label = row.get("label")
        if label is None or str(label).strip() == "":
            problems.append(f"{where}: no label")
        if paths["boxes"] is not None and paths["boxes"].suffix.lower() not in BOXES_SUFFIXES:
            problems.append(
                f"{where}: boxes file {row['boxes']}: expected .xml (VOC) or .json (COCO)"
            )
        if paths["image"] is None:
            if not row.get("image"):
                problems.append(f"{where}: no image")
            continue
        entries.append(
            FolderEntry(paths["image"], str(label).strip(), paths["mask"], paths["boxes"])
        )
    return entries


def _inside(root: Path, value: object, where: str, key: str, problems: list[str]) -> Path | None:
    """``value`` as an existing file path inside ``root``, or None (with a problem if bad)."""
    if key == "label" or value is None or str(value).strip() == "":
        return None
    path = (root / str(value).strip()).resolve()
    if not path.is_relative_to(root.resolve()):
        problems.append(f"{where}: {key} {value} is outside the suite folder")
        return None
    if not path.is_file():
        problems.append(f"{where}: {key} file {value} not found")
        return None
    return path


def _tree_entries(root: Path) -> list[FolderEntry]:
    return [
        FolderEntry(path, directory.name)
        for directory in sorted(p for p in root.iterdir() if p.is_dir())
        for path in sorted(directory.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]


def voc_objects(path: str | Path) -> list[BoxObject]:
    """The objects of a Pascal VOC annotation file; raises :class:`ParameterError` if malformed."""
    path = Path(path)
    try:
        tree = ElementTree.parse(path)
        objects = []
        for element in tree.getroot().iter("object"):
            box = element.find("bndbox")
            if box is None:
                raise ValueError("an object without bndbox")
            corners = tuple(
                float(box.findtext(key, "")) for key in ("xmin", "ymin", "xmax", "ymax")
            )
            if corners[2] < corners[0] or corners[3] < corners[1]:
                raise ValueError(f"box {corners} has max < min")
            name = (element.findtext("name") or "").strip()
            objects.append(BoxObject(name, corners, element.findtext("difficult", "0") == "1"))
    except (ElementTree.ParseError, ValueError) as exc:
        raise ParameterError(f"{path.name}: not a VOC annotation ({exc})") from None
    return objects


def coco_images(path: str | Path) -> dict[str, CocoImage]:
    """The images of a COCO annotation file by ``file_name``; raises :class:`ParameterError` if
    malformed (not JSON, a missing key, an unknown image or category id, a bad ``bbox``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("expected an object with images, annotations and categories")
        records = _records(data, "images", ("id", "file_name", "width", "height"))
        objects = _coco_objects(data, {record["id"] for record in records})
        images = {}
        for record in records:
            name = str(record["file_name"])
            if name in images:
                raise ValueError(f"images lists file_name {name} twice")
            size = (int(record["width"]), int(record["height"]))
            images[name] = CocoImage(size, tuple(objects.get(record["id"], ())))
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"{path.name}: not a COCO annotation file ({exc})") from None
    return images


def _coco_objects(data: dict, image_ids: set) -> dict[object, list[BoxObject]]:
    """The annotations of a COCO file's ``data`` as objects per image id; raises ValueError."""
    categories = _records(data, "categories", ("id", "name"))
    names = {category["id"]: str(category["name"]).strip() for category in categories}
    objects: dict[object, list[BoxObject]] = {}
    keys = ("image_id", "category_id", "bbox")
    for index, annotation in enumerate(_records(data, "annotations", keys)):
        where = f"annotations[{index}]"
        if annotation["image_id"] not in image_ids:
            raise ValueError(f"{where}: image_id {annotation['image_id']} is not in images")
        if annotation["category_id"] not in names:
            raise ValueError(f"{where}: category_id {annotation['category_id']} is unknown")
        box = coco_box(annotation["bbox"], where)
        crowd = annotation.get("iscrowd", 0) == 1
        name = names[annotation["category_id"]]
        objects.setdefault(annotation["image_id"], []).append(BoxObject(name, box, crowd))
    return objects


def _records(data: dict, key: str, fields: tuple[str, ...]) -> list[dict]:
    """``data[key]`` as a list of objects that each hold ``fields``; raises ValueError."""
    records = data.get(key)
    if not isinstance(records, list):
        raise ValueError(f"no {key} list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"{key}[{index}] is not an object")
        missing = [field for field in fields if field not in record]
        if missing:
            raise ValueError(f"{key}[{index}] lacks {', '.join(missing)}")
    return records


def coco_box(bbox: object, where: str) -> Box:
    """A COCO ``bbox`` ``[x, y, w, h]`` (pixels, 0-based, continuous) as the VOC corners of the
    pixels it touches: 0-based columns ``floor(x)`` .. ``ceil(x + w) - 1``, rows likewise,
    clipped at the top-left edge (:func:`box_mask` clips the far edges); raises ValueError
    naming ``where`` if it is not four numbers or has a negative width or height."""
    numbers = isinstance(bbox, list) and len(bbox) == 4
    if not numbers or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
        raise ValueError(f"{where}: bbox {bbox} is not [x, y, w, h]")
    x, y, width, height = bbox
    if width < 0 or height < 0:
        raise ValueError(f"{where}: bbox {bbox} has a negative width or height")
    return (
        float(max(math.floor(x), 0) + 1),
        float(max(math.floor(y), 0) + 1),
        float(max(math.ceil(x + width), 0)),
        float(max(math.ceil(y + height), 0)),
    )


def box_mask(boxes: list[Box], size: tuple[int, int]) -> Image.Image:
    """An ``L`` mask (255 inside) of ``size`` (width, height) covering the VOC boxes."""
    mask = torch.zeros(size[1], size[0], dtype=torch.uint8)
    for x0, y0, x1, y1 in boxes:
        # VOC corners are 1-based and inclusive.
        mask[max(int(y0) - 1, 0) : int(y1), max(int(x0) - 1, 0) : int(x1)] = 255
    return Image.fromarray(mask.numpy(), mode="L")


@dataclass(frozen=True)
class _Loaded:
    image: Image.Image
    label: int
    mask: Image.Image | None


def _label_index(label: str, labels: list[str], where: str, problems: list[str]) -> int:
    if label.lstrip("-").isdigit():
        index = int(label)
        if not 0 <= index < len(labels):
            problems.append(f"{where}: label {index} out of range 0..{len(labels) - 1}")
        return index
    if label not in labels:
        problems.append(f"{where}: label {label!r} is not one of the model's classes")
        return -1
    return labels.index(label)


class _BoxFiles:
    """The objects of the entries' ``boxes`` files during one suite load; each COCO file is
    parsed (and, if malformed, reported) once however many rows share it."""

    def __init__(self, root: Path):
        self.root = root
        self.coco: dict[Path, dict[str, CocoImage] | None] = {}  # None: malformed, reported

    def objects(
        self, boxes: Path, image: Path, size: tuple[int, int], problems: list[str]
    ) -> list[BoxObject]:
        """The objects that ``boxes`` annotates on ``image`` of ``size`` (width, height) in
        pixels; none, with a problem appended, if it cannot say."""
        if boxes.suffix.lower() != ".json":
            try:
                return voc_objects(boxes)
            except ParameterError as exc:
                problems.append(str(exc))
                return []
        record = self._coco_image(boxes, image, problems)
        if record is None:
            return []
        if record.size != size:
            problems.append(
                f"{boxes.name}: image {image.name} is {record.size[0]}x{record.size[1]} in "
                f"images, {size[0]}x{size[1]} on disk"
            )
            return []
        return list(record.objects)

    def _coco_image(self, boxes: Path, image: Path, problems: list[str]) -> CocoImage | None:
        """``image`` in the COCO file ``boxes`` by its path relative to the folder, else by its
        file name; None, with a problem appended unless the file's was, if absent."""
        if boxes not in self.coco:
            try:
                self.coco[boxes] = coco_images(boxes)
            except ParameterError as exc:
                problems.append(str(exc))
                self.coco[boxes] = None
        images = self.coco[boxes]
        if images is None:
            return None
        relative = image.relative_to(self.root).as_posix()
        record = images.get(relative) or images.get(image.name)
        if record is None:
            names = " or ".join(sorted({relative, image.name}))
            problems.append(f"{boxes.name}: no image {names} in images")
        return record


def _load_entry(
    entry: FolderEntry, labels: list[str], boxes: _BoxFiles, problems: list[str]
) -> _Loaded | None:
    where = entry.image.name
    before = len(problems)
    label = _label_index(entry.label, labels, where, problems)
    try:
        image = load_image(entry.image)
    except ImageError as exc:
        problems.append(str(exc))
        return None
    mask = None
    if entry.mask is not None:
        try:
            mask = load_image(entry.mask, mode="L")
        except ImageError as exc:
            problems.append(f"mask of {where}: {exc}")
        else:
            if mask.size != image.size:
                problems.append(
                    f"{entry.mask.name}: mask is {mask.size[0]}x{mask.size[1]}, its image "
                    f"{where} is {image.size[0]}x{image.size[1]}"
                )
            elif mask.getbbox() is None:
                problems.append(f"{entry.mask.name}: mask of {where} has no nonzero pixel")
    elif entry.boxes is not None and label >= 0:
        objects = boxes.objects(entry.boxes, entry.image, image.size, problems)
        kept = [o.box for o in objects if o.name == labels[label] and not o.difficult]
        mask = box_mask(kept, image.size) if kept else None
        if mask is not None and mask.getbbox() is None:
            mask = None  # its boxes cover no pixel of the image
    return _Loaded(image, label, mask) if len(problems) == before else None


def _scale(image: Image.Image, classifier: Classifier) -> float:
    """Model-input pixels per image pixel (the preprocessing's resize factor)."""
    preprocessing = classifier.preprocessing
    height, width = preprocessing.input_size
    if preprocessing.crop_pct >= 1.0:
        return (height / image.height * width / image.width) ** 0.5
    return max(
        int(height / preprocessing.crop_pct) / image.height,
        int(width / preprocessing.crop_pct) / image.width,
    )


def folder_suite(folder: str | Path) -> Suite:
    """A :class:`Suite` over a folder (see the module doc).

    The suite has no classifier of its own: run it with a model (``--model``). Its metrics are
    the faithfulness curves, plus pointing game, relevance mass and rank when some image has
    ground truth; its name is ``folder:<folder name>``.
    """
    root = Path(folder).resolve()
    entries = read_entries(root)
    has_truth = any(entry.mask or entry.boxes for entry in entries)
    return Suite(
        f"folder:{root.name}",
        "",
        _loader(root, entries),
        FAITHFULNESS_METRICS + (GROUND_TRUTH_METRICS if has_truth else ()),
        f"{len(entries)} images from {root}",
    )


def is_suite_folder(name_or_folder: str | Path) -> bool:
    """Whether ``name_or_folder`` names a folder on disk rather than a registered suite."""
    name = str(name_or_folder)
    return bool(name) and name not in suite_names() and Path(name).is_dir()


def resolve_suite(name_or_folder: str | Path) -> Suite:
    """A registered suite by name, else a suite folder (:func:`folder_suite`)."""
    if is_suite_folder(name_or_folder):
        return folder_suite(name_or_folder)
    return get_suite(str(name_or_folder))


def _loader(root: Path, entries: list[FolderEntry]) -> Callable[[Classifier], SuiteData]:
    def load(classifier: Classifier) -> SuiteData:
        problems: list[str] = []
        labels = list(classifier.labels)
        boxes = _BoxFiles(root)
        loaded = [_load_entry(entry, labels, boxes, problems) for entry in entries]
        if problems:
            raise SuiteFolderError(root, problems)
        items = [item for item in loaded if item is not None]
        images = classifier.prepare([item.image for item in items])
        target = torch.tensor([item.label for item in items])
        present = torch.tensor([item.mask is not None for item in items])
        if not present.any():
            return SuiteData(images, target)
        nearest = replace(classifier.preprocessing, interpolation="nearest")
        masks = torch.stack(
            [
                nearest.to_tensor(item.mask or Image.new("L", item.image.size))[0] > 0
                for item in items
            ]
        )
        scale = torch.tensor([_scale(item.image, classifier) for item in items])
        return SuiteData(images, target, masks, present, scale)

    return load
