"""``ork plan --against`` between two versions of the 06-pattern-zoo komposer (nine CRDs:
seven official patterns from the embedded registry, locked, plus two local katalogs)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.registry import median_ms

OFFICIAL = ("postgres", "mysql", "mongodb", "redis", "kafka", "rabbitmq", "deployment-stack")


def run(runs: int = 21) -> None:
    ork = str(Path(sys.executable).parent / "ork")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "ORK_HOME": str(work / "home"), "NO_COLOR": "1"}
        for key in ("ORK_REGISTRY", "ORK_MOTIFS_REGISTRY"):
            env.pop(key, None)
        subprocess.run(
            [ork, "init", "--pack", "registry-guide"],
            cwd=work,
            env=env,
            check=True,
            capture_output=True,
        )
        guide = work / "registry-guide"
        for name in OFFICIAL:
            subprocess.run(
                [ork, "push", "--no-e2e", str(guide / "official" / name)],
                env=env,
                check=True,
                capture_output=True,
            )
        zoo = guide / "06-pattern-zoo"
        subprocess.run(
            [ork, "pull", "-f", "komposer.yaml"], cwd=zoo, env=env, check=True, capture_output=True
        )
        (zoo / "komposer-next.yaml").write_text(
            (zoo / "komposer.yaml")
            .read_text()
            .replace("workers: 6", "workers: 8")
            .replace("resync: 5m", "resync: 10m")
        )
        floor = median_ms([sys.executable, "-c", "pass"], env, runs)
        single = median_ms([ork, "plan", "komposer.yaml"], env, runs, cwd=zoo)
        against = median_ms(
            [ork, "plan", "komposer-next.yaml", "--against", "komposer.yaml"], env, runs, cwd=zoo
        )
    print(
        f"\nPlan: 06-pattern-zoo (9 CRDs, 7 locked registry imports), median of {runs} "
        "whole-process runs"
    )
    print(f"  python -c pass                 {floor:6.1f} ms  (floor)")
    print(
        f"  ork plan komposer.yaml         {single:6.1f} ms  ({single / floor:4.1f}x floor; "
        "runs the 9 proofs' simulations)"
    )
    print(
        f"  ork plan next --against        {against:6.1f} ms  ({against / floor:4.1f}x floor; "
        f"{against / 500:4.2f}x the 500 ms target)"
    )
