"""Accepted notes in draw order (draw.py order), minus hand-rejected non-case notes."""
import subprocess
REJECT = {  # not a real patient case
 '3252': 'normal male ROS template', '375': 'template (XX-year-old (wo)man, XXX eye)',
 '3383': 'normal female physical exam template', '4220': 'normal ROS template',
 '2552': 'educational text on pre-eclampsia, no patient', '3264': 'normal female exam template',
 '3248': 'normal physical exam template', '2470': 'normal ROS template', '4217': 'normal ROS template',
 '3156': 'generic IMRT description, no case',
 '4659': 'transcription is empty ("INDICATIONS:," only)',
 '1995': 'transcription is empty ("OPERATION:," only)',
 '4213': 'transcription truncated to 166 characters (condition list, no case)',
 '3505': 'transcription truncated to one diagnosis line'}
def accepted():
    out = subprocess.run(['python3', 'draw.py', '130'], capture_output=True, text=True).stdout
    ids = [l.split('id=')[1].split()[0] for l in out.splitlines() if l.startswith('===')]
    return [i for i in ids if i not in REJECT]
if __name__ == '__main__':
    a = accepted(); print(len(a)); print('blind', a[:60]); print('desc', a[60:90])
