"""Views of a talk session: the Rich live layout and plain line output."""
