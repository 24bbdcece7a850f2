## Notifications sent by the outbox sender (bot/sender.py). Arguments follow the
## sender's conventions: $amount is already formatted money, $expires/$date formatted
## dates; numbers of points stay numbers so plurals work.

notify-purchase =
    Purchase of { $amount }.
    { $paid ->
        [0] No points were used.
        [one] Paid with { $paid } point.
       *[other] Paid with { $paid } points.
    }
    Earned: +{ $earned ->
        [one] { $earned } point
       *[other] { $earned } points
    }. Balance: { $balance ->
        [one] { $balance } point
       *[other] { $balance } points
    }.
    Please rate your visit:
notify-tier-up = 🎉 Congratulations! Your new status is "{ $tier }". Your cashback grows from the next purchase.
notify-friend-joined = 👥 A friend joined by your link: { $name }. When they make a purchase, you get points.
notify-referral-reward = 👥 Your friend (level { $level }) made a purchase: +{ $points ->
    [one] { $points } point
   *[other] { $points } points
}.
notify-refund =
    A purchase of { $amount } was refunded.
    Returned to your balance: { $returned ->
        [one] { $returned } point
       *[other] { $returned } points
    }; taken back from what the purchase earned: { $reversed ->
        [one] { $reversed } point
       *[other] { $reversed } points
    }.
    Balance: { $balance ->
        [one] { $balance } point
       *[other] { $balance } points
    }.
notify-adjustment = Your balance was changed: { $delta_sign }{ $delta_abs ->
    [one] { $delta_abs } point
   *[other] { $delta_abs } points
}. Reason: { $reason }
notify-certificate = 🎁 { $kind ->
    [birthday] Happy birthday! Here is a gift:
    [winback] We missed you! Here is a gift:
    [campaign] Your campaign gift:
   *[other] Here is a gift:
} a certificate for { $points ->
    [one] { $points } point
   *[other] { $points } points
}. It pays up to { $cap }% of a check and is valid until { $expires }.
notify-review-approved = ⭐ Thank you for your review on { $site }! You earned +{ $points ->
    [one] { $points } point
   *[other] { $points } points
}.
notify-review-approved-again = ⭐ Thank you for your review on { $site }! Points for a review on this site were already paid earlier.
notify-review-rejected = Unfortunately your review on { $site } did not pass the check. If this is a mistake, please contact the administrator.

## Messages to the staff chat

notify-staff-review = 📝 Review to check: { $site }. Guest: { $name } (#{ $customer }). Reward: { $points ->
    [one] { $points } point
   *[other] { $points } points
}.
notify-staff-low-rating = ⚠️ Low rating: { $score } of 5. Guest: { $name } (#{ $customer }), purchase #{ $operation } of { $amount }, staff: { $staff }.
notify-staff-rating-comment = 💬 { $name } (#{ $customer }) about purchase #{ $operation } (rated { $score } of 5): “{ $text }”
