"""Small HL7 v2 messages for tests and bench/filing.py: an admission with a patient, a visit and diagnoses."""

from __future__ import annotations


def pv1(visit: str, admitted: str, discharged: str = "", patient_class: str = "I") -> str:
    """A PV1 segment: class (PV1-2), visit number (PV1-19), admit (PV1-44) and discharge (PV1-45) times."""
    fields = [""] * 46
    fields[0] = "PV1"
    fields[1] = "1"
    fields[2] = patient_class
    fields[3] = "WARD^101^1"
    fields[19] = visit
    fields[44] = admitted
    fields[45] = discharged
    return "|".join(fields)


def adt(mrn: str, name: str, dob: str, sex: str = "F", *, sender: str = "SENDER_A", sent: str = "20230504120000",
        visit: str = "V1", admitted: str = "20230504", discharged: str = "",
        diagnoses: tuple[str, ...] = (), control: str = "MSG1") -> bytes:
    """An ADT^A01 message; `name` as 'Family^Given', dates as HL7 (YYYYMMDD); each diagnosis a DG1-3 value
    ('E10.9^Diabetes^I10') with the admission date as its DG1-5."""
    lines = [
        f"MSH|^~\\&|{sender}|FAC|CHARTVAULT|FAC|{sent}||ADT^A01|{control}|P|2.5",
        f"PID|1||{mrn}^^^{sender}^MR||{name}||{dob}|{sex}",
        pv1(visit, admitted, discharged),
    ]
    for n, dg in enumerate(diagnoses, start=1):
        lines.append(f"DG1|{n}||{dg}||{admitted}|F")
    return ("\r".join(lines) + "\r").encode()
