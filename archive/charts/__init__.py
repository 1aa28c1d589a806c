"""A patient's chart: the patient, their encounters and chart entries, versioned, with their history.

Modules, bottom to top (a module imports only those below it):

- `rules`: the checks a careful technician applies (MRNs, dates, names, physicians, codes); pure.
- `changes`: what every chart change shares: numbered ids, versions, change rows.
- `encounters`: admissions and visits.
- `patients`: add, update, list; a patient's admission dates open or move an admission encounter.
- `entries`: procedures, medications, complications, referrals and diagnoses; a patient's whole chart.
- `history`: every change to a chart.
- `landing`: an imported HL7/FHIR record's facts turned into chart rows.

All SQL is in archive.store (the patients, encounters and chart_entries
repositories); nothing here imports archive.records or archive.intake.
"""
