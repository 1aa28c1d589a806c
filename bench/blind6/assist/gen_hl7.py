# (file, mrn, question, answers, answer_type, evidence, note)
HL7 = [
("ADT04-28.hl7", "0000000001", "Who is Timothy Bixby's emergency contact, and how is she related to him?", ["Bixby^Barbara", "Barbara Bixby", "Mother", "his mother"], "text", "NK1||Bixby^Barbara^|Mother", "NK1 marked Emergency Contact"),
("ADT04-23.hl7", "123456789", "Mario Bros: date of birth?", ["19850101", "1985-01-01", "January 1, 1985"], "date", "BROS^MARIO^^^^||19850101000000+0700", None),
("ADT04-251.hl7", "MRN12345", "Who is listed as next of kin for Jane Doe (patient MRN12345)?", ["JOHNSON^CONWAY", "Conway Johnson", "spouse"], "text", "NK1|1|JOHNSON^CONWAY^^^^^L|SPOUS", "spouse, emergency contact"),
("ORU-R01-RMGEAD.hl7", "555-44-4444", "What is Eve Everywoman's mother's maiden name?", ["JONES", "Jones"], "text", "EVERYWOMAN^EVE^E^^^^L|JONES|19620320", "PID-6, structured-only field"),
("ORU-R01-01.hl7", "14", "What grew in Huckleberry Finn's stool culture?", ["Salmonella", "Salmonella species"], "text", "27268008^Salmonella^SCT^^^^^^Salmonella species", None),
("PC1-Problem-Add-v2.3.1.hl7", "10290", "What problem was added to Tom Karls's problem list?", ["BLADDER DYSFUNCTION", "bladder dysfunction", "596.5"], "text", "596.5^BLADDER DYSFUNCTION^I9", "PRB|AD"),
("PC1-Problem-Update-v2.3.1.hl7", "10291", "Is Ms. Karls's chest pain still an active problem?", ["no"], "no", "786.5^CHEST PAIN^I9|26793|||20040629||20040629||||Resolved", "PRB|UP sets the problem to Resolved"),
("MDHHS-OML-O21-2.hl7", "MRNTC14", "Baby Girl Old: who is her mother?", ["Shonal^Old", "Old Shonal", "Shonal Old"], "text", "NK1|1|Shonal^Old|MTH^Mother", None),
("VXU.hl7", "90012", "Which vaccine did Elise Wong get on 24 June 2015?", ["TENIVAC", "Tenivac", "Td", "tetanus-diphtheria"], "text", "49281-0215-88^TENIVAC^NDC", "RXA 20150624; older RXAs are historical influenza doses"),
("MDM-T02-03.hl7", "3196695816", "What is Mr. Frederick Clark's NHS number?", ["6597923189"], "value", "6597923189^^^NHSNBR^NHSNMBR", "PID-3 second repetition"),
]
