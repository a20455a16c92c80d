from livecli.transcript import Speaker, Transcript


def make():
    done = []
    return Transcript(on_turn_done=done.append), done


def test_fragments_are_stitched_into_turns_in_order():
    transcript, done = make()
    for piece in ["What's", " the", " weather?"]:
        transcript.add(Speaker.USER, piece)
    for piece in ["It is", " sunny", "."]:
        transcript.add(Speaker.MODEL, piece)
    transcript.model_turn_complete()
    assert [t.line() for t in done] == ["You: What's the weather?", "Gemini: It is sunny."]


def test_late_user_words_join_the_user_turn_not_a_new_one():
    transcript, done = make()
    transcript.add(Speaker.USER, "Tell me")
    transcript.add(Speaker.MODEL, "Sure,")
    transcript.add(Speaker.USER, " a joke")  # arrives after the model began
    transcript.add(Speaker.MODEL, " here goes.")
    transcript.model_turn_complete()
    assert [t.line() for t in done] == ["You: Tell me a joke", "Gemini: Sure, here goes."]


def test_interrupted_model_turn_is_marked_and_next_turn_starts_fresh():
    transcript, done = make()
    transcript.add(Speaker.USER, "Count to ten")
    transcript.add(Speaker.MODEL, "One, two,")
    transcript.model_interrupted()
    transcript.add(Speaker.USER, "Stop")
    transcript.add(Speaker.MODEL, "Okay.")
    transcript.model_turn_complete()
    assert [t.line() for t in done] == [
        "You: Count to ten",
        "Gemini: One, two, [interrupted]",
        "You: Stop",
        "Gemini: Okay.",
    ]


def test_typed_text_is_its_own_turn():
    transcript, done = make()
    transcript.add_user_text("hello from the keyboard")
    transcript.add(Speaker.MODEL, "Hi!")
    transcript.model_turn_complete()
    assert [t.line() for t in done] == ["You: hello from the keyboard", "Gemini: Hi!"]


def test_empty_turns_are_dropped():
    transcript, done = make()
    transcript.add(Speaker.MODEL, "  ")
    transcript.model_turn_complete()
    assert done == [] and transcript.turns == []


def test_open_turns_are_reported_when_the_session_ends():
    transcript, done = make()
    transcript.add(Speaker.USER, "Are you there")
    transcript.finish_all()
    assert [t.line() for t in done] == ["You: Are you there"]
