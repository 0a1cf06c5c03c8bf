from ivr.simulator import format_transcript

def test_explore(phone, db):
    call = phone()
    call.press("1")
    call.press("1")
    call.press("5")
    call.say("123 Main Street")
    call.press("1")
    call.say("Maria Lopez")
    call.press("1")
    call.say("no heat since Sunday")
    call.press("1")
    print(format_transcript(call))
    c2 = phone()
    c2.press("2"); c2.press("1"); c2.say("hay un bache"); c2.press("0"); c2.press("1"); c2.record(); c2.press("1")
    c2.silence()
    print(format_transcript(c2))
    print([ (e.url, e.params) for e in c2.requests][-4:])
