"""A livecli plugin with one tool: the model can roll dice for you."""

import random


def roll_dice(sides: int = 6, count: int = 1) -> list[int]:
    """Roll dice and return each die's value.

    Args:
        sides: How many faces each die has (at least 2).
        count: How many dice to roll (1 to 100).
    """
    if sides < 2 or not 1 <= count <= 100:
        raise ValueError("need sides >= 2 and 1 <= count <= 100")
    return [random.randint(1, sides) for _ in range(count)]
