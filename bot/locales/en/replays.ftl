# A button or a request that was already used for another checkout (docs/RULES.md, "Ids and replays").
staff-error-replay-mismatch = This checkout was already closed by another purchase. Start again: scan the card once more.
