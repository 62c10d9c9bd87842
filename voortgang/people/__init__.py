"""People: creating and changing the persons who use Voortgang."""
