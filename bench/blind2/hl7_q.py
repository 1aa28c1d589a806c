"""Named HL7 v2 questions (10): one per distinct non-Everyman patient identity, taken in draw order
(draw positions 14, 25, 47, 72, 81, 96, 98, 104, 124, 133); none of these patients was used in round 1."""
Q = [
("ADT04-28.hl7", "Timothy Bixby", "Timothy Bixby (MRN 0000000001)", "Which hospital was Timothy Bixby admitted to as an inpatient?", ["RES General Hospital", "RES General"], "value", "PV1||I|3N^136^B^RES General Hospital^^Inpatient"),
("ADT04-251.hl7", "Jane Doe", "Jane Doe (MRN MRN12345)", "Who is listed as the spouse and emergency contact of the patient with MRN MRN12345?", ["JOHNSON^CONWAY", "Conway Johnson", "CONWAY JOHNSON"], "value", "NK1|1|JOHNSON^CONWAY^^^^^L|SPOUS"),
("LRI_2.0-NG_CBC_Typ_Message.hl7", "William Jones", "William A Jones (PATID1234, NIST MPI)", "What was William Jones's white blood cell count on his CBC?", ["105600", "105,600", "105600 cells/uL", "105.6"], "value", "Leukocytes [#/volume] in Blood||105600"),
("MDHHS-OML-O21-1.hl7", "Baby Girl Shine", "Baby Girl Shine (MRN MRNTC09SA-Part A)", "When was Baby Girl Shine's last rabies vaccination, according to the lab order?", ["20150818", "2015-08-18", "August 18, 2015", "08/18/2015"], "date", "Date of Last Rabies Vaccination^BOL_0002||20150818"),
("ORU-R01-01.hl7", "Huckleberry Finn", "Huckleberry Finn (14, IA PHIMS Stage)", "What organism grew in Huckleberry Finn's stool culture?", ["Salmonella", "Salmonella species"], "value", "27268008^Salmonella^SCT^^^^^^Salmonella species"),
("PC1-Problem-Delete-v2.3.1.hl7", "Jon Karls", "Jon Karls (MRN 10292)", "Is hypochondriasis still on Jon Karls's problem list?", ["no", "Deleted"], "no", "300.7^HYPOCHONDRIASIS^I9|26806|||20040629||||||Deleted"),
("MDM-T02-03.hl7", "Frederick Clark", "Frederick Clark (SIMULATOR MRN 3196695816)", "Which doctor is the attending for Mr. Clark?", ["Woolfson^Kathleen", "Kathleen Woolfson", "Dr Woolfson", "Woolfson"], "value", "PV1|1|O||28b|||C006^Woolfson^Kathleen^^^Dr"),
("IZ_1_1.1_Admin_Child_Max_Message.hl7", "Madelynn Snow", "Madelynn Ainsley Snow (MRN D26376273)", "When did Madelynn Snow receive her seasonal influenza vaccine?", ["20120814", "2012-08-14", "August 14, 2012", "08/14/2012"], "date", "RXA|0|1|20120814||140^Influenza, seasonal, injectable, preservative free^CVX"),
("ADT04-23.hl7", "Mario Bros", "Mario Bros (MRN 123456789)", "Who is the first next of kin listed for Mario Bros?", ["PEACH^PRINCESS", "Princess Peach", "PRINCESS PEACH", "Peach"], "value", "NK1|1|PEACH^PRINCESS^^^^|SO"),
("PC1-Problem-Update-v2.3.1.hl7", "Janet Karls", "Janet Karls (MRN 10291)", "What is the status of Janet Karls's chest pain problem?", ["Resolved", "resolved"], "value", "786.5^CHEST PAIN^I9|26793|||20040629||20040629||||Resolved"),
]
if __name__ == '__main__':
    for f, p, r, q, a, t, e in Q:
        raw = open('/work/shared/data/hl7v2/' + f, encoding='utf-8-sig').read()
        print(e in raw, t in ('yes', 'no') or any(x.lower() in e.lower() for x in a), f)
