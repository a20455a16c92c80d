"""The scripted model's side of a conversation: how one model turn is played out on the wire."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import TYPE_CHECKING, Any

from . import wire
from .wire import AUDIO_TOKENS_PER_SECOND, OUT_RATE, Turn, g

if TYPE_CHECKING:
    from .conn import Conn


class TurnPlayer:
    """Mixed into the connection: plays model turns (speech, text, tool calls, background work)."""

    async def _play_turn(self: Conn, turn: Turn) -> None:
        srv = self.srv
        assert turn.cancel is not None
        if not await self._pause(turn, srv.real(srv.response_delay)):
            return
        reason = srv._turn_complete_reason(turn)
        if reason:
            await self._complete_turn(turn, reason=reason)
            return
        calls = srv._match_tools(turn.user_text) if turn.source != "tool_result" else []
        if calls:
            turn.tool_calls = calls
            if srv.tool_code:
                code = "\n".join(f"print(default_api.{c['name']}(**{c['args']!r}))" for c in calls)
                await self._send_content(
                    {"modelTurn": self._model_turn([{"executableCode": {"language": "PYTHON", "code": code}}])}
                )
            await self.send({"toolCall": {"functionCalls": calls}})
            srv._event("tool_call", self.id, calls=calls)
            if not self._blocking(calls):
                self.background_tools.update({_key(c): c for c in calls})
                if srv.interim_reply:
                    await self._speak(turn, srv.interim_reply)
                else:
                    await self._complete_turn(turn)
                return
            if not await self._await_tool_responses(turn, calls):
                return
            if not await self._pause(turn, srv.real(srv.response_delay)):
                return
        turn.reply_text = srv._next_reply_text(turn)
        if self.rules.background and turn.source != "tool_result":
            await self._work_in_background(turn)
        else:
            await self._speak(turn, turn.reply_text)

    async def _work_in_background(self: Conn, turn: Turn) -> None:
        """Extended thinking: a filler, a turn end while IN_PROGRESS, then the answer and IDLE."""
        await self._send_content({"interactionStatus": "IN_PROGRESS"})
        if not await self._speak(turn, self.srv.filler_text, status="IN_PROGRESS"):
            return
        if not await self._pause(turn, self.srv.real(self.srv.background_s)):
            return
        turn.audio_samples_sent, turn.first_audio_t = 0, None
        await self._speak(turn, turn.reply_text, status="IDLE")

    def _blocking(self: Conn, calls: list[dict]) -> bool:
        declared = {
            d.get("name"): str(d.get("behavior") or self.rules.default_behavior).upper()
            for tool in g(self.setup, "tools") or []
            for d in g(tool, "function_declarations") or []
        }
        return any(declared.get(c["name"], self.rules.default_behavior) != "NON_BLOCKING" for c in calls)

    async def _await_tool_responses(self: Conn, turn: Turn, calls: list[dict]) -> bool:
        """Wait for every blocking call's response; False when the turn was cut short."""
        srv = self.srv
        assert turn.cancel is not None
        self.pending_tools = {_key(c): c for c in calls}
        self.tool_answers = {}
        self.tool_event.clear()
        deadline = time.monotonic() + srv.real(srv.tool_response_timeout)
        while not set(self.pending_tools) <= set(self.tool_answers):
            if turn.cancel.is_set() or not self.pending_tools:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                srv._event("tool_response_timeout", self.id, ids=list(self.pending_tools))
                break
            waiter = asyncio.create_task(self.tool_event.wait())
            canceller = asyncio.create_task(turn.cancel.wait())
            await asyncio.wait({waiter, canceller}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            canceller.cancel()
            self.tool_event.clear()
        if turn.cancel.is_set():
            return False
        turn.tool_responses = [self.tool_answers[k] for k in self.pending_tools if k in self.tool_answers]
        self.pending_tools = {}
        return True

    async def _background_tool_answered(self: Conn, responses: list[dict], t: float) -> None:
        """A NON_BLOCKING call's result: spoken per its scheduling (WHEN_IDLE unless said otherwise)."""
        answered = [r for r in responses if _key(r) in self.background_tools]
        if not answered:
            return
        calls = [self.background_tools.pop(_key(r)) for r in answered]
        scheduling = str(answered[0].get("scheduling") or "WHEN_IDLE").upper()
        self.srv._event("tool_result_scheduled", self.id, t, scheduling=scheduling, ids=[_key(c) for c in calls])
        if scheduling == "SILENT":
            return
        if scheduling == "INTERRUPT" and self._busy():
            await self._interrupt(t, "tool_result")
        turn = self._enqueue("", "tool_result", t)
        turn.tool_calls, turn.tool_responses = calls, answered

    async def _speak(self: Conn, turn: Turn, text: str, *, status: str | None = None) -> bool:
        """One model reply: thoughts, audio (or text) with its transcription, then the turn's end.
        False when the turn was cut short."""
        srv = self.srv
        if srv.thoughts:
            await self._send_content({"modelTurn": self._model_turn([{"text": srv.thoughts, "thought": True}])})
        if self.text_mode:
            for fragment in wire.word_fragments(text):
                await self._send_content({"modelTurn": self._model_turn([{"text": fragment}])})
                if not await self._pause(turn, srv.real(0.02 / srv.send_speed)):
                    return False
            srv._event("model_text", self.id, text=text)
            return await self._end_reply(turn, {}, status)
        pcm = srv._reply_pcm()
        total = len(pcm) // 2
        sizes = srv._chunk_sizes(total)
        words = wire.word_fragments(text) if self.output_tx else []
        sent_words = 0
        start = time.monotonic()
        offset = 0
        for k, n in enumerate(sizes):
            last = k == len(sizes) - 1
            chunk = pcm[offset * 2 : (offset + n) * 2]
            audio = {
                "modelTurn": self._model_turn([{"inlineData": {"mimeType": self.out_mime, "data": wire.b64(chunk)}}])
            }
            offset += n
            turn.audio_samples_sent = offset
            if last and srv.pack_turn_end:  # several things in one message, as the service may send them
                if sent_words < len(words):
                    audio["outputTranscription"] = {"text": "".join(words[sent_words:])}
                self._audio_sent(turn, total, offset, last)
                return await self._end_reply(turn, audio, status)
            # transcription runs slightly ahead of the audio, like the service's
            while sent_words < math.ceil(len(words) * (k + 1) / len(sizes)):
                await self._send_content({"outputTranscription": {"text": words[sent_words]}})
                sent_words += 1
            await self._send_content(audio)
            self._audio_sent(turn, total, offset, last)
            target = start + srv.real(offset / OUT_RATE / srv.send_speed)
            if not await self._pause(turn, target - time.monotonic()):
                return False
        for word in words[sent_words:]:
            await self._send_content({"outputTranscription": {"text": word}})
        if self.vertex and self.output_tx:
            await self._send_content({"outputTranscription": {}})  # as Vertex does
        return await self._end_reply(turn, {}, status)

    def _audio_sent(self: Conn, turn: Turn, total: int, offset: int, last: bool) -> None:
        now = time.monotonic()
        if turn.first_audio_t is None:
            turn.first_audio_t = now
            self.audible_until = now + self.srv.real(total / OUT_RATE)
            self.srv._event("model_audio_first", self.id, now, turn=turn.index)
        self.audible_until = max(self.audible_until, now)
        if last:
            self.srv._event("model_audio_last", self.id, now, turn=turn.index, samples=offset)

    async def _end_reply(self: Conn, turn: Turn, content: dict, status: str | None) -> bool:
        srv = self.srv
        if srv.grounding is not None and self._searches():
            content["groundingMetadata"] = dict(srv.grounding)
        if srv.pack_turn_end:
            await self._complete_turn(turn, content={**content, "generationComplete": True}, status=status)
            return True
        if content:
            await self._send_content(content)
        await self._send_content({"generationComplete": True})
        srv._event("generation_complete", self.id, turn=turn.index)
        if srv.turn_complete_after_playback and self.audible_until > time.monotonic():
            if not await self._pause(turn, self.audible_until - time.monotonic()):
                return False
        await self._complete_turn(turn, status=status)
        return True

    def _searches(self: Conn) -> bool:
        return any(g(tool, "google_search") is not None for tool in g(self.setup, "tools") or [])

    def _model_turn(self: Conn, parts: list[dict]) -> dict:
        return {"parts": parts, "role": "model"} if self.vertex else {"parts": parts}

    async def _send_content(self: Conn, content: dict) -> None:
        await self.send({"serverContent": content})

    async def _complete_turn(
        self: Conn, turn: Turn, *, content: dict | None = None, reason: str | None = None, status: str | None = None
    ) -> None:
        """turnComplete and this turn's usageMetadata (one frame, as the service sends them)."""
        srv = self.srv
        s = self.session
        usage = self._usage(turn)
        body: dict = {**(content or {}), "turnComplete": True}
        if reason:
            body["turnCompleteReason"] = reason
        if srv.waiting_for_input or reason == "NEED_MORE_INPUT":
            body["waitingForInput"] = True
        if status:
            body["interactionStatus"] = status
        message: dict = {"serverContent": body}
        if srv.usage_with_turn_complete:
            message["usageMetadata"] = usage
        await self.send(message)
        if not srv.usage_with_turn_complete:
            await self.send({"usageMetadata": usage})
        s.turns += 1
        srv._event(
            "turn_complete",
            self.id,
            turn=turn.index,
            session=s.id,
            interrupted=turn.interrupted,
            usage=usage,
            reason=reason,
        )
        if self.resumption:
            s.handle_seq += 1
            handle = f"fake-resume-{s.id}-{s.handle_seq}"
            srv._sessions_by_handle[handle] = s
            with srv._cond:
                srv.handles.append(handle)
            update: dict = {"newHandle": handle, "resumable": True}
            if self.transparent:
                update["lastConsumedClientMessageIndex"] = self.client_msgs
            await self.send({"sessionResumptionUpdate": update})
            srv._event("resumption_update", self.id, handle=handle)

    def _usage(self: Conn, turn: Turn) -> dict:
        """This turn's usage: the whole context so far is billed again as prompt (users report so)."""
        s = self.session
        srv = self.srv
        in_audio = round(turn.input_audio_seconds * AUDIO_TOKENS_PER_SECOND)
        in_text = wire.text_tokens(turn.user_text) if turn.source != "audio" else 0
        tool_use = sum(wire.text_tokens(json.dumps(r)) for r in turn.tool_responses)
        system = wire.text_tokens(json.dumps(self.setup.get("systemInstruction") or self.setup.get("tools") or ""))
        prompt_audio = s.context_audio_tokens + in_audio
        prompt_text = s.context_text_tokens + in_text + system
        if self.text_mode:
            resp_mod, resp = "TEXT", wire.text_tokens(turn.reply_text)
        else:
            resp_mod, resp = "AUDIO", round(turn.audio_samples_sent / OUT_RATE * AUDIO_TOKENS_PER_SECOND)
        thoughts = wire.text_tokens(srv.thoughts or "")
        s.context_audio_tokens += in_audio + (resp if resp_mod == "AUDIO" else 0)
        s.context_text_tokens += in_text + tool_use + (resp if resp_mod == "TEXT" else 0)
        prompt_details = [{"modality": "TEXT", "tokenCount": prompt_text}]
        if prompt_audio:
            prompt_details.append({"modality": "AUDIO", "tokenCount": prompt_audio})
        prompt = prompt_text + prompt_audio
        response_name = "candidates" if self.vertex else "response"
        usage: dict[str, Any] = {
            "promptTokenCount": prompt,
            f"{response_name}TokenCount": resp,
            "totalTokenCount": prompt + resp + thoughts + tool_use,
            "promptTokensDetails": prompt_details,
            f"{response_name}TokensDetails": [{"modality": resp_mod, "tokenCount": resp}],
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        if tool_use:
            usage["toolUsePromptTokenCount"] = tool_use
            usage["toolUsePromptTokensDetails"] = [{"modality": "TEXT", "tokenCount": tool_use}]
        return usage


def _key(call_or_response: dict) -> str:
    """Calls are matched by id, or by name when the service sent none (older Vertex)."""
    return call_or_response.get("id") or call_or_response.get("name") or ""
