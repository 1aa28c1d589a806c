# (file, question, answers, answer_type, evidence (substring of one segment), note)
Q=[
("ADT04-23.hl7","Who is Mario Bros's attending physician on his outpatient registration?",["YOSHI DINO","DINO^YOSHI","Dino Yoshi","Dr. Dino"],"text","123456^DINO^YOSHI","PV1-7 attending doctor (also PV1-17); PV1-8 referring doctor is DUCKHUNT DOG"),
("ADT04-28.hl7","Timothy Bixby: who is his emergency contact?",["Barbara Bixby","Bixby^Barbara","his mother"],"text","Bixby^Barbara^|Mother","NK1: mother, Emergency Contact"),
("ADT04-28.hl7","Which insurance plan is Timothy Bixby registered under?",["HMO Deductable Plan","aetna","HMO"],"text","31572^HMO Deductable Plan^Payor ID","IN1: aetna (60054 0131), spelled 'Deductable' in the source"),
("MDM-T02-03.hl7","What is Mr. Frederick Clark's NHS number?",["6597923189"],"value","6597923189^^^NHSNBR^NHSNMBR","PID-3 second repetition; the MRN is 3196695816"),
("ADT04-251.hl7","Who is Jane Doe's spouse (MRN MRN12345)?",["CONWAY JOHNSON","Johnson^Conway","Conway Johnson"],"text","JOHNSON^CONWAY^^^^^L|SPOUS","NK1-3 SPOUS; listed as EMERGENCY contact"),
("ORU-R01-RMGEAD.hl7","Eve Everywoman: what was her 12-hour fasting glucose?",["182 mg/dl","182","182 mg/dL"],"value","^182|mg/dl|70_105|H","flagged H (reference 70-105)"),
("ORU-R01-01.hl7","What organism grew in Huckleberry Finn's stool culture?",["Salmonella","Salmonella species"],"text","27268008^Salmonella^SCT","OBX result (status P, preliminary)"),
("PC1-Problem-Add-v2.3.1.hl7","What problem was added to Tom Karls's problem list?",["BLADDER DYSFUNCTION","bladder dysfunction","596.5"],"text","596.5^BLADDER DYSFUNCTION^I9","PRB|AD, status ACTIVE, 2004-06-29"),
("PC1-Problem-Update-v2.3.1.hl7","Is chest pain still an active problem for Ms. Janet Karls?",["no","Resolved"],"no","786.5^CHEST PAIN^I9|26793|||20040629||20040629||||Resolved","PRB|UP sets the problem to Resolved on 2004-06-29"),
("IZ_1_1.1_Admin_Child_Max_Message.hl7","In which arm did Madelynn Snow get her flu shot on 14 August 2012?",["Left Arm","left arm","left"],"text","LD^Left Arm^HL70163","RXR route Intramuscular; vaccine Influenza, seasonal, injectable, preservative free (CVX 140)"),
]
