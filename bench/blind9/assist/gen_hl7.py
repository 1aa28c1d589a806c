# (file, patient, question, answers, answer_type, evidence, note)
HL = [
("ADT04-23.hl7", "123456789", "Who is listed as Mario Bros's next of kin?", ["PEACH","Princess Peach","PEACH^PRINCESS"], "text", "NK1|1|PEACH^PRINCESS^^^^|SO", "NK1 1 type NOK; NK1 2 TOADSTOOL is the emergency contact (EMC)"),
("ADT04-251.hl7", "MRN12345", "Jane Doe (MRN12345): who is her emergency contact?", ["JOHNSON^CONWAY","Conway Johnson","JOHNSON"], "text", "NK1|1|JOHNSON^CONWAY^^^^^L|SPOUS", "spouse, NK1 marked EMERGENCY"),
("ADT04-28.hl7", "0000000001", "What insurance plan does Timothy Bixby have?", ["HMO Deductable Plan","aetna","Aetna HMO"], "text", "IN1||31572^HMO Deductable Plan^Payor ID|60054^^^^|aetna (60054 0131)", None),
("ADT04-28.hl7", "0000000001", "Who is Timothy Paul Bixby's primary care physician?", ["Granite^Pat","Pat Granite","Granite"], "text", "PD1||||4356789876^Granite^Pat^^^^MD", "PD1 patient primary care provider (also attending in PV1)"),
("IZ_1_1.1_Admin_Child_Max_Message.hl7", "D26376273", "In which arm did Madelynn Snow get her flu shot?", ["Left Arm","left arm","LD"], "text", "RXR|C28161^Intramuscular^NCIT|LD^Left Arm^HL70163", "Influenza vaccine given 20120814, intramuscular"),
("MDHHS-OML-O21-1.hl7", "MRNTC09SA-Part A", "Baby Girl Shine: when was her last rabies vaccination?", ["20150818","2015-08-18","August 18, 2015"], "date", "OBX|1|TS|AOE15^Date of Last Rabies Vaccination^BOL_0002||20150818060605-0500", "ask-at-order-entry answer on a rabies FA order"),
("MDHHS-OML-O21-2.hl7", "MRNTC14", "Which tests were ordered for Baby Girl Old (MRNTC14)?", ["HIV Ag/Ab","Syphilis"], "list", "OBR|1|ORD723222^^2.16.840.1.113883.3.72.5.24^ISO|R-783274^^2.16.840.1.113883.3.72.5.25^ISO|1320^HIV Ag/Ab - Serum^L", "OBR 1 HIV Ag/Ab - Serum, OBR 2 Syphilis (USR test)"),
("PC1-Problem-Add-v2.3.1.hl7", "10290", "What problem was added to Tom Karls's list?", ["BLADDER DYSFUNCTION","bladder dysfunction","596.5"], "text", "PRB|AD|2004062916460000|596.5^BLADDER DYSFUNCTION^I9", "status ACTIVE, 20040629"),
("PC1-Problem-Update-v2.3.1.hl7", "10291", "Is Ms. Janet Karls's chest pain still an active problem?", ["no","Resolved"], "no", "786.5^CHEST PAIN^I9|26793|||20040629||20040629||||Resolved", "PRB update marks it Resolved"),
("VXU.hl7", "90012", "Elise Wong: which vaccine was given on 24 June 2015?", ["TENIVAC","Td","tetanus-diphtheria"], "text", "RXA|0|1|20150624||49281-0215-88^TENIVAC^NDC", "right deltoid; earlier flu shots are historical records"),
]
