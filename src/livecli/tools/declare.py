"""Plain Python functions as tools: the SDK builds the declaration from the
signature and docstring; the `tool` decorator adds what a signature cannot say."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable

from livecli.tools.docstrings import split_docstring
from livecli.tools.model import Policy, Scheduling, Tool

OPTIONS_ATTRIBUTE = "__livecli_tool__"
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


@dataclasses.dataclass(frozen=True)
class ToolOptions:
    name: str | None = None
    approval: Policy = Policy.AUTO
    timeout_s: float | None = None
    scheduling: Scheduling | None = None  # set: the tool is non-blocking


def tool(
    fn: Callable | None = None,
    /,
    *,
    name: str | None = None,
    approval: str = "auto",
    timeout_s: float | None = None,
    non_blocking: bool = False,
    scheduling: str = "WHEN_IDLE",
):
    """Mark a function as a tool with options; use as `@tool` or `@tool(approval="ask")`.

    approval: "auto", "ask" (the user confirms each call) or "deny"; config can override it.
    non_blocking: the model goes on talking while the tool runs, and takes its answer
    according to `scheduling` ("INTERRUPT", "WHEN_IDLE" or "SILENT"); needs a model that
    supports it.
    """
    if timeout_s is not None and timeout_s <= 0:
        raise ValueError("timeout_s must be positive")
    options = ToolOptions(
        name=name,
        approval=Policy(approval),
        timeout_s=timeout_s,
        scheduling=Scheduling(scheduling) if non_blocking else None,
    )

    def mark(function: Callable) -> Callable:
        setattr(function, OPTIONS_ATTRIBUTE, options)
        return function

    return mark if fn is None else mark(fn)


def function_tool(fn: Callable, *, source: str, timeout_s: float) -> Tool:
    """A Tool for `fn`; raises ValueError (with the reason) when it cannot be declared."""
    import pydantic
    from google.genai import types

    options: ToolOptions = getattr(fn, OPTIONS_ATTRIBUTE, ToolOptions())
    if any(p.kind in _VARIADIC for p in inspect.signature(fn).parameters.values()):
        raise ValueError("*args and **kwargs cannot be declared to the model")
    declaration = types.FunctionDeclaration.from_callable_with_api_option(
        callable=fn, api_option="GEMINI_API", use_json_schema=True
    )
    description, arg_docs = split_docstring(fn.__doc__)
    schema = declaration.parameters_json_schema
    if schema and arg_docs:
        properties = {
            arg: {"description": arg_docs[arg], **prop} if arg in arg_docs else prop
            for arg, prop in schema.get("properties", {}).items()
        }
        schema = {**schema, "properties": properties}
    declaration = declaration.model_copy(
        update=dict(
            name=options.name or declaration.name,
            description=description or None,
            parameters_json_schema=schema,
            behavior=types.Behavior.NON_BLOCKING if options.scheduling else None,
        )
    )
    # The model sends JSON: validation turns "3" into 3 and explains bad arguments.
    if inspect.iscoroutinefunction(fn):
        checked = pydantic.validate_call(fn)

        async def invoke(args: dict):
            return await checked(**args)

    else:
        arguments = validated_arguments(fn)

        async def invoke(args: dict):
            bound = arguments(**args)
            return await in_daemon_thread(functools.partial(fn, *bound.args, **bound.kwargs), declaration.name)

    return Tool(
        name=declaration.name,
        source=source,
        declaration=declaration,
        invoke=invoke,
        policy=options.approval,
        timeout_s=options.timeout_s or timeout_s,
        scheduling=options.scheduling,
    )


def validated_arguments(fn: Callable) -> Callable[..., inspect.BoundArguments]:
    """pydantic's validation of `fn`'s arguments, without calling `fn`: a sync tool then runs
    as plain Python in its thread. Run under the compiled validator instead, a thread still in
    the tool when Python exits unwinds through its frames, and the process aborts (exit 134)."""
    import pydantic

    signature = inspect.signature(fn)

    @functools.wraps(fn)  # fn's signature, annotations and module: what pydantic reads
    def bind(*args, **kwargs) -> inspect.BoundArguments:
        return signature.bind(*args, **kwargs)

    return pydantic.validate_call(bind)


async def in_daemon_thread(call: Callable[[], object], name: str):
    """Run a sync tool in its own daemon thread: a thread cannot be stopped, so one
    that outlives its timeout or cancellation must not hold up livecli's exit
    (asyncio.to_thread's pool is joined at exit)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def deliver(outcome, error):
        if future.done():  # cancelled or timed out meanwhile
            return
        if error is None:
            future.set_result(outcome)
        else:
            future.set_exception(error)

    def work():
        try:
            outcome, error = call(), None
        except BaseException as exc:  # delivered to the caller, like to_thread does
            outcome, error = None, exc
        try:
            loop.call_soon_threadsafe(deliver, outcome, error)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for this answer
            pass

    threading.Thread(target=work, name=f"tool {name}", daemon=True).start()
    return await future
