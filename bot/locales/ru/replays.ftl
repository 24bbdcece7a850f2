# A button or a request that was already used for another checkout (docs/RULES.md, "Ids and replays").
staff-error-replay-mismatch = Этот расчёт уже закрыт другой покупкой. Начните заново: отсканируйте карту ещё раз.
