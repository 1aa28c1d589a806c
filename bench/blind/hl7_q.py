import json
Q=[
 ("What was the glucose result for Eve Everywoman (MRN 555-44-4444)?", {"mrn":"555-44-4444","name":"Eve E. Everywoman"}, "hl7v2/ORU-R01-RMGEAD.hl7", ["182 mg/dl","182","182 mg/dL"], "value", "1554-5^GLUCOSE^POST 12H CFST:MCNC:PT:SER/PLAS:QN||^182|mg/dl"),
 ("Was Ms. Everywoman's glucose flagged as high?", {"mrn":"555-44-4444","name":"Eve E. Everywoman"}, "hl7v2/ORU-R01-RMGEAD.hl7", ["yes","H"], "yes", "^182|mg/dl|70_105|H"),
 ("What is Tom Karls's active problem?", {"mrn":"10290","name":"Tom Andrew Karls"}, "hl7v2/PC1-Problem-Add-v2.3.1.hl7", ["bladder dysfunction","BLADDER DYSFUNCTION","596.5"], "other", "596.5^BLADDER DYSFUNCTION^I9"),
 ("Does Mr. Karls have diabetes on his problem list?", {"mrn":"10290","name":"Tom Andrew Karls"}, "hl7v2/PC1-Problem-Add-v2.3.1.hl7", ["no"], "no", "KARLS^TOM^ANDREW^^MR.^"),
 ("Which vaccine product did Elise W. receive on 24 June 2015?", {"mrn":"90012","name":"Elise Wong"}, "hl7v2/VXU.hl7", ["TENIVAC","Tenivac","Td","Tetanus/Diphtheria (Td)"], "drug", "RXA|0|1|20150624||49281-0215-88^TENIVAC^NDC|0.5|mL"),
 ("What dose of Tenivac was given to the patient with MRN 90012?", {"mrn":"90012","name":"Elise Wong"}, "hl7v2/VXU.hl7", ["0.5 mL","0.5","0.5 ml"], "dose", "49281-0215-88^TENIVAC^NDC|0.5|mL^mL^UCUM"),
 ("When did Ms. Wong last get an influenza vaccine according to her record?", {"mrn":"90012","name":"Elise Wong"}, "hl7v2/VXU.hl7", ["2014-10-12","20141012","October 12, 2014","10/12/2014"], "date", "RXA|0|1|20141012||88^influenza, unspecified formulation^CVX"),
 ("What diagnosis was recorded for Donald Duck (MRN 10006579) on his admission?", {"mrn":"10006579","name":"Donald D. Duck"}, "hl7v2/ADT01-23.hl7", ["osteoarthrosis of the lower leg","OSTEOARTHROS NOS-L/LEG","osteoarthrosis","71596"], "other", "DG1|1|I9|71596^OSTEOARTHROS NOS-L/LEG ^I9"),
 ("Which test was ordered for Mr. Duck in the lab order message?", {"mrn":"10006579","name":"Donald D. Duck"}, "hl7v2/LAB-ORM-1.hl7", ["Hemogram and platelet count, automated","hemogram and platelet count","CBC with platelets","24317-0"], "other", "24317-0^Hemogram and platelet count, automated^LN"),
 ("What was the pregnancy answer recorded for Baby Girl Old (MRN MRNTC14)?", {"mrn":"MRNTC14","name":"Baby Girl Old"}, "hl7v2/MDHHS-OML-O21-2.hl7", ["NO","no"], "no", "AOE25^Pregnancy^BOL_0002||NO"),
 ("Which tests were ordered for the infant with MRN MRNTC14?", {"mrn":"MRNTC14","name":"Baby Girl Old"}, "hl7v2/MDHHS-OML-O21-2.hl7", ["HIV Ag/Ab - Serum","Syphilis (USR test)(1)"], "list", "1320^HIV Ag/Ab - Serum^L"),
 ("What was the heart rate recorded for Adam Everyman (MRN PATID1234) in the ADT A06 transfer message?", {"mrn":"PATID1234","name":"Adam A. Everyman III"}, "hl7v2/ADT-A06-01.hl7", ["44 beats/min","44","44 bpm"], "value", "8867-4^heart rate^LN||44|beats/min"),
 ("Has Adam Everyman had a biopsy of colon?", {"mrn":"PATID1234","name":"Adam A. Everyman III"}, "hl7v2/ADT-A06-01.hl7", ["yes"], "yes", "76164006^Biopsy of colon (procedure)^SCT"),
 ("What drug allergy is recorded for the patient with MRN PATID1234 in the BAR P01 billing message?", {"mrn":"PATID1234","name":"Adam A. Everyman III"}, "hl7v2/BAR-P01-01.hl7", ["penicillin","PENICILLIN"], "drug", "AL1|1|EA|P^PENICILLIN^ICDO"),
 ("What infusion was ordered for Adam E. in the RDE O25 pharmacy order?", {"mrn":"PATID1234","name":"Adam A. Everyman III"}, "hl7v2/RDE-O25-01.hl7", ["nicardipine","niCARdipine","NICARDIPINE","Cardene"], "drug", "NICARDIPINE IN NACL (ISO-OS) 40 MG/200 ML IV PGBK"),
 ("What study was done on Sample Prosolv (ID 987654321) on 31 January 2008?", {"mrn":"987654321","name":"Sample Prosolv"}, "hl7v2/MDM-T02-01.hl7", ["transthoracic echo","TransthoracicEcho","echocardiogram","transthoracic echocardiogram"], "other", "02585^TransthoracicEcho^PCV4"),
]
out=[dict(kind='named',question=q,patient=p,source=s,answer=a,answer_type=t,evidence=e) for q,p,s,a,t,e in Q]
for o in out:
    if o['source'].endswith('PC1-Problem-Add-v2.3.1.hl7') and o['answer_type']=='no': o['note']='absence: no diabetes in the message'
    if 'ADT-A06' in o['source'] or 'BAR-P01' in o['source'] or 'RDE-O25' in o['source']: o['note']='PATID1234 / Adam Everyman appears in ~40 HL7 test messages with differing contents; the question names the message type to disambiguate'
json.dump(out,open('hl7_q.json','w'),indent=1); print(len(out))
