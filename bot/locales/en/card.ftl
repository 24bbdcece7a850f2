## The customer's loyalty card (bot/card.py): labels drawn on the image and the
## message sent with it.

card-tier-label = Status
card-balance-label = Balance
# The word after the big balance figure on the card image.
card-points-word = { $n ->
    [one] point
   *[other] points
}
card-code-label = Code for the cashier
# Progress to the next tier when the threshold is money spent.
card-progress-money = { MONEY($kopecks) } more to “{ $tier }”
# Progress to the next tier when the threshold is a number of purchases.
card-progress-purchases = { $count ->
    [one] { $count } more purchase to “{ $tier }”
   *[other] { $count } more purchases to “{ $tier }”
}
card-progress-top = You have the top status
# Sent with the card image (HTML parse mode). $code is spaced ("123 456"), $until a time ("14:05").
card-caption = Show the QR code to the cashier or tell them the code <b>{ $code }</b>. It works once, until { $until }.
card-button-refresh = New code
card-code-expired = This code has expired. Press “New code” to get a fresh one.
