"""Writes the small example datasets in this folder, shaped the way real public datasets are shaped.

    python examples/make_examples.py   # deterministic: the committed files come out byte for byte

- adult/: header-less CSV with ", " separators, `?` for missing, a test file whose first line is a comment and
  whose labels carry a trailing dot (">50K."), as the UCI Adult files do.
- flowers/: a three-class dataset (semicolon-separated, with a header).
- loans/: Parquet with typed columns, an id column and a 0/1 label.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
EDUCATION = [
    ("Bachelors", 13),
    ("HS-grad", 9),
    ("Some-college", 10),
    ("Masters", 14),
    ("Doctorate", 16),
    ("11th", 7),
    ("Assoc-voc", 11),
]
WORKCLASS = ["Private", "Self-emp-not-inc", "Local-gov", "State-gov", "Federal-gov"]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Separated", "Widowed"]
OCCUPATION = ["Tech-support", "Craft-repair", "Sales", "Exec-managerial", "Prof-specialty", "Adm-clerical"]


def adult_row(rng: random.Random, test: bool) -> str:
    age = rng.randint(17, 80)
    education, years = rng.choice(EDUCATION)
    marital = rng.choice(MARITAL)
    hours = max(5, min(99, int(rng.gauss(41, 11))))
    gain = rng.choice([0] * 9 + [rng.randint(2000, 20000)])
    logit = -7.5 + 0.045 * age + 0.32 * years + 0.03 * hours + (1.6 if marital == "Married-civ-spouse" else 0)
    logit += 2.5 if gain > 5000 else 0
    label = ">50K" if rng.random() < 1 / (1 + math.exp(-logit)) else "<=50K"
    workclass = "?" if rng.random() < 0.05 else rng.choice(WORKCLASS)
    occupation = "?" if rng.random() < 0.05 else rng.choice(OCCUPATION)
    fields = [
        age,
        workclass,
        rng.randint(20000, 400000),
        education,
        years,
        marital,
        occupation,
        rng.choice(["Husband", "Wife", "Not-in-family", "Own-child"]),
        rng.choice(["White", "Black", "Other"]),
        rng.choice(["Male", "Female"]),
        gain,
        0,
        hours,
        "?" if rng.random() < 0.02 else "United-States",
        label + ("." if test else ""),
    ]
    return ", ".join(str(f) for f in fields)


def write_adult() -> None:
    rng = random.Random(1)
    folder = HERE / "adult"
    folder.mkdir(exist_ok=True)
    (folder / "adult.data").write_text("".join(adult_row(rng, False) + "\n" for _ in range(800)))
    (folder / "adult.test").write_text(
        "|1x3 Cross validator\n" + "".join(adult_row(rng, True) + "\n" for _ in range(400))
    )


def write_flowers() -> None:
    rng = random.Random(2)
    centers = {"setosa": (5.0, 3.4, 1.5, 0.2), "versicolor": (5.9, 2.8, 4.3, 1.3), "virginica": (6.6, 3.0, 5.5, 2.0)}
    lines = ["sepal_length;sepal_width;petal_length;petal_width;colour;species"]
    for i in range(450):
        species = list(centers)[i % 3]
        values = [round(c + rng.gauss(0, 0.6), 1) for c in centers[species]]
        colour = rng.choice(["white", "purple", "blue"]) if species != "setosa" else rng.choice(["white", "pink"])
        lines.append(";".join(str(v) for v in [*values, colour, species]))
    (HERE / "flowers").mkdir(exist_ok=True)
    (HERE / "flowers" / "flowers.csv").write_text("\n".join(lines) + "\n")


def write_loans() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(3)
    rows = []
    for i in range(1000):
        income = round(rng.lognormvariate(10.8, 0.5), 2)
        amount = round(rng.uniform(1000, 40000), 2)
        term = rng.choice([36, 60])
        grade = rng.choice("ABCDEF")
        logit = -1.0 + 3.5 * amount / income + 0.4 * "ABCDEF".index(grade) + (0.5 if term == 60 else 0) - 2.0
        rows.append(
            {
                "loan_id": f"L{i:05d}",
                "income": income,
                "amount": amount,
                "term_months": term,
                "grade": grade,
                "home": rng.choice(["rent", "own", "mortgage"]),
                "years_employed": rng.choice([None, *range(0, 11)]),
                "defaulted": int(rng.random() < 1 / (1 + math.exp(-logit))),
            }
        )
    (HERE / "loans").mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), HERE / "loans" / "loans.parquet")


if __name__ == "__main__":
    write_adult()
    write_flowers()
    write_loans()
