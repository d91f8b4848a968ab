"""How silo's --help, container args, Kubernetes durations and quantities are spelled:
the parsers the manifest checks read them with."""

import re
import subprocess


def parse_help(silo):
    """Flags from `silo --help`: {name: takes_value}."""
    p = subprocess.run([silo, "--help"], capture_output=True, text=True, timeout=30, check=False)
    flags = {}
    for line in p.stdout.splitlines():
        m = re.match(r"^\s+(?:-([a-zA-Z]), )?--([a-z][a-z0-9-]*)(?: (\S+))?(?:\s{2,}|$)", line)
        if m:
            flags[m.group(2)] = m.group(3) is not None
            if m.group(1):
                flags[m.group(1)] = m.group(3) is not None
    return p.returncode, flags, p.stdout


def split_args(args):
    """['--a=b', '--c', '-v'] -> [('a', 'b'), ('c', None), ('v', None)] (one leading dash or
    two). Every item must be one flag: '--x value' as two items is not used here."""
    out = []
    for a in args:
        m = re.match(r"^--?([A-Za-z][A-Za-z0-9_-]*)(?:=(.*))?$", str(a))
        out.append((m.group(1), m.group(2)) if m else (None, a))
    return out


def flagmap(args):
    return {k: v for k, v in split_args(args) if k}


def duration_s(text):
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        if m.start() != pos:
            raise ValueError(text)
        total += float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise ValueError(text)
    return total


def quantity(text):
    m = re.match(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G)?$", str(text))
    if not m:
        raise ValueError(text)
    mult = {None: 1, "m": 0.001, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 1024, "Mi": 1024**2,
            "Gi": 1024**3, "Ti": 1024**4}[m.group(2)]
    return float(m.group(1)) * mult
