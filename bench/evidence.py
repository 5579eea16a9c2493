"""What evidence costs validation: `validate_seeds` on seed files with evidence against the same files without.

The files are copies of the bundled seed (the Koran Jakarta article): each copy has its own source, meetings and
statements (new keys), and shares the persons, organizations and topics, as coverage of the same events does. With
evidence, nearly every fact and some words of the copy are quoted from its text (71 quotes a file: strings, lists,
mappings with a basis and a note, and a few facts with a basis and no quote); without, the same files with no
`evidence` (both have the direct quotes' own, which a load gives them). The two sets are timed in turn, `--rounds`
times each, and the medians compared.

    python bench/evidence.py                 # 1,000 files: ~2 minutes on 2 cores
    python bench/evidence.py --files 50 --rounds 1
"""

import argparse
import copy
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from diplo.ingest.export import seed_yaml
from diplo.ingest.seeds import parse_text
from diplo.ingest.session import load_seeds, validate_seeds

SEED = Path(__file__).resolve().parent.parent / "seeds" / "koran-jakarta-2025-03-01-as-russia.yaml"
TARGET = 1.3


def _inferred(quote: str, note: str) -> dict[str, str]:
    return {"quote": quote, "basis": "inferred", "note": note}


US_DELEGATION = (
    "delegasi AS dipimpin oleh Wakil Asisten Menteri Luar Negeri untuk Russia dan Eropa Tengah, Sonata Coulter"
)
RU_DELEGATION = "pihak Russia dipimpin oleh Duta Besar Alexander Darchiev"
PHONE_CALL = "percakapan telepon antara Putin dan Presiden AS Donald Trump"
FOLLOW_UP = "Coulter dan Darchiev sepakat untuk mengadakan pertemuan lanjutan"
SECOND_ROUND = "seusai perundingan putaran kedua antara diplomat Russia dan AS"
# The evidence of the bundled seed's facts, by record list, record key and field (a delegation's by its meeting's
# key and country), quoted from its text.
EVIDENCE: dict[str, dict[str, dict[str, Any]]] = {
    "source": {
        "": {"published_at": _inferred("Sabtu, 01 Mar 2025, 01:20 WIB", "the dateline's local time; WIB is UTC+7"),
             "via": "seperti dikutip Antara dari Anadolu"},
    },
    "persons": {
        "sonata-coulter": {"country": _inferred(US_DELEGATION, "she heads the US delegation")},
        "alexander-darchiev": {"country": _inferred(
            "Direktur Departemen Amerika Utara di Kementerian Luar Negeri Russia", "a director in Russia's ministry")},
        "dmitry-peskov": {"country": _inferred("juru bicara Kremlin Dmitry Peskov", "the Kremlin's spokesman")},
        "vladimir-putin": {"country": "Presiden Rusia Vladimir Putin"},
        "donald-trump": {"country": "Presiden AS Donald Trump"},
    },
    "organizations": {
        "us-department-of-state": {"name": "Departemen Luar Negeri Amerika Serikat (AS)",
                                   "country": "Departemen Luar Negeri Amerika Serikat (AS)"},
        "russian-ministry-of-foreign-affairs": {"country": "Kementerian Luar Negeri Russia menyebut"},
        "kremlin": {"country": _inferred("juru bicara Kremlin Dmitry Peskov", "the seat of Russia's presidency")},
    },
    "topics": {
        "diplomatic-missions": {"label": "menstabilkan operasi misi diplomatik mereka"},
        "banking-services": {"label": "akses terhadap layanan perbankan dan jasa kontrak"},
        "embassy-staffing": {"label": "tingkat kepegawaian yang stabil dan berkelanjutan"},
        "direct-flights": {"label": "penerbangan langsung antara Russia dan AS"},
        "normalisation-of-relations": {"label": "normalisasi hubungan diplomatik"},
    },
    "meetings": {
        "putin-trump-phone-call-2025-02-12": {
            "status": f"semakin intensif setelah {PHONE_CALL}", "format": "percakapan telepon",
            "date": _inferred("Presiden AS Donald Trump pada 12 Februari", "the year is the publication's"),
            "delegations": PHONE_CALL,
        },
        "putin-trump-phone-call-2025-02-12/RU": {"head": PHONE_CALL, "head_role": "Presiden Rusia"},
        "putin-trump-phone-call-2025-02-12/US": {"head": PHONE_CALL, "head_role": "Presiden AS"},
        "us-russia-talks-riyadh-2025-02-18": {
            "status": "Putaran pertama perundingan tingkat tinggi berlangsung di Riyadh",
            "format": _inferred("pertemuan di Riyadh, Arab Saudi", "a meeting held in a city"),
            "date": _inferred("berlangsung di Riyadh pada 18 Februari", "the year is the publication's"),
            "city": "pertemuan di Riyadh, Arab Saudi", "host_country": "pertemuan di Riyadh, Arab Saudi",
            "round": "Putaran pertama perundingan tingkat tinggi",
            "topics": ["normalisasi hubungan diplomatik dan operasional kedutaan mereka",
                       "memulai dialog terkait isu yang mempengaruhi misi diplomatik masing-masing"],
            "delegations": "ketika kedua belah pihak sepakat untuk memulai dialog",
        },
        "us-russia-talks-istanbul-2025-02-27": {
            "status": "delegasi mereka dan Russia bertemu pada Kamis di Istanbul",
            "format": _inferred("bertemu pada Kamis di Istanbul, Turki", "the delegations met in a city"),
            "date": _inferred("bertemu pada Kamis di Istanbul", "the Thursday before publication"),
            "city": "bertemu pada Kamis di Istanbul, Turki", "host_country": "di Istanbul, Turki",
            "round": "perundingan putaran kedua", "follows": "merupakan tindak lanjut dari pertemuan di Riyadh",
            "topics": ["menstabilkan operasi misi diplomatik mereka",
                       "akses terhadap layanan perbankan dan jasa kontrak",
                       "tingkat kepegawaian yang stabil dan berkelanjutan di Kedutaan Besar AS di Moskow",
                       "kemungkinan dimulainya kembali penerbangan langsung antara Russia dan AS"],
            "delegations": "delegasi mereka dan Russia bertemu pada Kamis di Istanbul",
        },
        "us-russia-talks-istanbul-2025-02-27/US": {
            "head": _inferred(US_DELEGATION, "the next paragraph has Coulter agreeing on the follow-up"),
            "head_role": "Wakil Asisten Menteri Luar Negeri untuk Russia dan Eropa Tengah",
        },
        "us-russia-talks-istanbul-2025-02-27/RU": {
            "head": _inferred(RU_DELEGATION, "the next paragraph has Darchiev agreeing on the follow-up"),
            "head_role": "Duta Besar Alexander Darchiev, Direktur Departemen Amerika Utara",
        },
        "us-russia-talks-follow-up-after-istanbul": {
            "status": "sepakat untuk mengadakan pertemuan lanjutan dalam waktu dekat",
            "format": {"basis": "assumed", "note": "not stated; in person, as the two rounds it follows"},
            "follows": FOLLOW_UP,
            "topics": _inferred("mengadakan pertemuan lanjutan dalam waktu dekat", "a follow-up of those talks"),
            "delegations": _inferred(FOLLOW_UP, "the sides of the talks it follows"),
        },
    },
    "statements": {
        "us-state-department-istanbul-purpose": {
            "organization": "Departemen Luar Negeri Amerika Serikat (AS) menyatakan",
            "meeting": "bertemu pada Kamis di Istanbul",
        },
        "us-state-department-istanbul-banking-and-staffing": {
            "organization": _inferred("demikian pernyataan tersebut", "the State Department's statement"),
            "meeting": _inferred("demikian pernyataan tersebut", "the statement on the Istanbul talks"),
        },
        "us-state-department-istanbul-first-steps": {
            "organization": "sebut Deplu AS",
            "meeting": _inferred("kedua pihak mengidentifikasi langkah awal konkret", "the Istanbul talks' steps"),
        },
        "us-state-department-istanbul-follow-up": {
            "organization": "menurut pernyataan Departemen Luar Negeri AS",
            "meeting": _inferred(FOLLOW_UP, "said of the Istanbul talks"),
        },
        "dmitry-peskov-dialogue-with-all-countries": {
            "speaker": "Peskov mengatakan", "organization": "juru bicara Kremlin Dmitry Peskov",
            "date": _inferred("pada Jumat (28/2)", "the year is the publication's"),
            "occasion": "dalam konferensi pers di Moskow", "meeting": SECOND_ROUND,
        },
        "russian-foreign-ministry-istanbul-substantive": {
            "organization": "Kementerian Luar Negeri Russia menyebut perundingan itu substansial",
            "meeting": _inferred("perundingan itu substansial", "the talks of the paragraph before"),
        },
        "russian-foreign-ministry-dialogue-continues": {
            "organization": _inferred("Dialog antara kedua negara pun akan terus berlanjut", "the ministry's words"),
        },
        "vladimir-putin-inspires-hope": {
            "speaker": "Presiden Rusia Vladimir Putin mengatakan",
            "meeting": "Terkait pertemuan putaran kedua itu",
        },
    },
}  # fmt: skip


def copies(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` copies of the bundled seed with evidence, and the same without."""
    base = parse_text(SEED.read_text(encoding="utf-8"), SEED.name)
    strip(base)  # whatever the bundled seed quotes, both sets start from none
    with_evidence, without = [], []
    for i in range(n):
        plain = renamed(base, f"-{i:04d}")
        without.append(plain)
        quoted = copy.deepcopy(plain)
        quoted["source"]["evidence"] = EVIDENCE["source"][""]
        for kind in ("persons", "organizations", "topics", "meetings", "statements"):
            for record in quoted.get(kind, []):
                original = record["key"].removesuffix(f"-{i:04d}")
                if original in EVIDENCE[kind]:
                    record["evidence"] = EVIDENCE[kind][original]
                for delegation in record.get("delegations", []):
                    if (found := EVIDENCE[kind].get(f"{original}/{delegation['country']}")) is not None:
                        delegation["evidence"] = found
        with_evidence.append(quoted)
    return with_evidence, without


def strip(value: Any) -> None:
    if isinstance(value, dict):
        value.pop("evidence", None)
        for v in value.values():
            strip(v)
    elif isinstance(value, list):
        for v in value:
            strip(v)


def renamed(base: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A copy of the report whose source, meetings and statements have keys of their own."""
    content = copy.deepcopy(base)
    own = {content["source"]["key"]} | {r["key"] for kind in ("meetings", "statements") for r in content.get(kind, [])}

    def new(key: str | None) -> str | None:
        return key + suffix if key in own else key

    content["source"]["key"] = new(content["source"]["key"])
    for meeting in content.get("meetings", []):
        meeting["key"], meeting["follows"] = new(meeting["key"]), new(meeting.get("follows"))
        meeting["sources"] = [new(s) for s in meeting.get("sources", [])]
    for statement in content.get("statements", []):
        statement["key"], statement["meeting"] = new(statement["key"]), new(statement.get("meeting"))
        statement["source"] = new(statement.get("source"))
    for kind in ("meetings", "statements"):
        content[kind] = [{k: v for k, v in r.items() if v not in (None, [])} for r in content.get(kind, [])]
    return content


def write(directory: Path, contents: list[dict[str, Any]]) -> None:
    directory.mkdir()
    for content in contents:
        (directory / f"{content['source']['key']}.yaml").write_text(seed_yaml(content), encoding="utf-8")


def quotes_of(directory: Path, db: Path) -> int:
    """The evidence quotes a load of the set's first file stores: every quote of the file was found."""
    load_seeds(db, [min(directory.iterdir())])
    with sqlite3.connect(db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM evidence_quotes").fetchone()
    return int(count)


def timed(directory: Path) -> tuple[float, float]:
    """The seconds `validate_seeds` takes on the folder: on the clock, and of this process's CPU (which other
    processes on a shared machine do not inflate)."""
    wall, cpu = time.perf_counter(), time.process_time()
    validate_seeds([directory])
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diplo-bench-evidence-") as tmp:
        root = Path(tmp)
        with_evidence, without = copies(args.files)
        write(root / "with", with_evidence)
        write(root / "without", without)
        size = {name: sum(p.stat().st_size for p in (root / name).iterdir()) for name in ("with", "without")}
        quotes = {name: quotes_of(root / name, root / f"{name}.db") for name in ("with", "without")}
        print(f"{args.files:,} files: with evidence {size['with'] / 2**20:.1f} MiB, {quotes['with']} quotes a file; "
              f"without {size['without'] / 2**20:.1f} MiB, {quotes['without']}", flush=True)  # fmt: skip
        times: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
        for round_number in range(1, args.rounds + 1):
            for name in ("without", "with") if round_number % 2 else ("with", "without"):
                times[name].append(timed(root / name))
                wall, cpu = times[name][-1]
                print(f"round {round_number}: {name} evidence {wall:.2f} s ({cpu:.2f} s CPU)", flush=True)
        ratios = []
        for measure, at in (("wall", 0), ("CPU", 1)):
            with_median = statistics.median(t[at] for t in times["with"])
            without_median = statistics.median(t[at] for t in times["without"])
            ratios.append(ratio := with_median / without_median)
            verdict = "met" if ratio < TARGET else "missed"
            print(f"validation of {args.files:,} files, {measure}: {with_median:.2f} s with evidence, "
                  f"{without_median:.2f} s without: {ratio:.2f}x (target: under {TARGET}x, {verdict})")  # fmt: skip
        sys.exit(0 if max(ratios) < TARGET else 1)


if __name__ == "__main__":
    main()
