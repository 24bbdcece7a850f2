## Reports (models/reports/report.py, models/reports/rfm.py, bot/report_render.py).
## Every figure has a name (the message) and a one-line definition (.def). The definitions are
## sent by the "What do these mean?" button and are in the XLSX, never under every line.
## Values arrive already formatted as strings. Plain words: an owner reads these, not a developer.

report-title = 📊 Report for { $from } – { $to }
report-title-scope = 📊 Report for { $from } – { $to } ({ $scope })
report-details-title = 📋 Detailed report for { $from } – { $to }
report-details-title-scope = 📋 Detailed report for { $from } – { $to } ({ $scope })
report-definitions-title = ❓ What the report's figures mean
report-line = { $name }: { $value }
report-definition = { $text }
report-dash = —
report-share = { $value } ({ $share })
report-of-which = { $value }, of whom { $bought } bought
report-generations = { $n ->
    [one] { $n } generation
   *[other] { $n } generations
}
report-rating-value = { $count } (average { $average })
report-card-vs-no-card-value = { $card } vs { $plain } ({ $uplift })
report-concentration-value = { $share } of revenue
report-section-figures = Figures
report-section-benefit = Benefit of the program
report-section-sources = By source
report-section-staff = Staff
report-section-campaigns = Campaigns and sources
report-section-rfm = Customer groups
report-section-promos = Promo codes
report-promo-line = { $code }: { $uses } uses, { $points } given
report-staff-line = { $name }: { $purchases } card purchases, { $sales } without a card, revenue { $revenue }, avg card check { $average }, paid with points { $points }, brought { $enrolled } customers, average rating { $rating }
report-campaign-line = { $name }: opened { $opened } → registered { $registered } → certificates { $certificates } → bought { $buyers }, { $revenue }, cost { $cost }
report-source-line = { $name }: customers { $customers }, bought { $buyers }, revenue { $revenue }
report-rfm-line = { $name }: { $customers }, revenue { $revenue }
report-no-data = No data for this period.

report-customers = Customers on file
    .def = Every customer on file at the end of the period (joined before its end and not erased).
report-new-customers = New customers
    .def = Customers who joined the base within the period.
report-digitised = With the card in Telegram
    .def = Customers who have the card in Telegram at the end of the period, and their share of all customers on file.
report-buyers = Made purchases
    .def = Customers with at least one card purchase in the period (fully refunded ones do not count), and their share of all customers on file.
report-purchases = Purchases with the card
    .def = Card purchases in the period, except fully refunded ones.
report-revenue = Card revenue
    .def = Sum of card checks (money and points together) net of refunds.
report-average-check = Average check
    .def = Card revenue divided by the number of card purchases.
report-purchases-per-buyer = Purchases per buyer
    .def = Card purchases divided by the number of customers who bought.
report-points-paid = Paid with points
    .def = Points that paid for purchases, in roubles, less what refunds gave back.
report-actual-discount = Actual discount
    .def = The share of card revenue that was paid with points.
report-referred = New customers by referral
    .def = Customers who joined in the period through a referral link, and how many of them bought.
report-referral-depth = Longest referral chain
    .def = How many generations the longest chain has: a customer's friend is generation 1, their friend generation 2.
report-referred-revenue = Revenue from referred customers
    .def = Revenue in the period from customers who came through a referral.
report-certificate-revenue = Revenue from certificate purchases
    .def = Revenue of purchases paid partly with a certificate.
report-certificates = Certificates issued
    .def = Certificates issued in the period: birthday, win-back, campaigns, by the owner.
report-ratings = Visit ratings
    .def = Visit ratings (1–5) received in the period and their average.
report-saving = Saved compared with a direct discount
    .def = What a direct { $percent }% discount on the same card revenue would have cost, minus what was paid with points.
report-brought-revenue = Revenue from customers of campaigns and links
    .def = Revenue in the period from customers who came through campaign and source links (not referral, walk-in or import).
report-total-benefit = Total benefit of the program
    .def = The sum of three lines: saved compared with a direct discount, revenue from referred customers and revenue from customers of campaigns and links.
report-benefit-none = no purchases in the period: nothing to measure
report-benefit-negative = none: points paid { $amount } more than a direct discount would have cost
report-saving-negative = none: points paid { $amount } more than a direct discount would have cost
report-card-vs-no-card = Average check: card vs no card
    .def = Average card check against the average check of sales recorded without a card in the same period, difference in percent.
report-return-rate = Came back for a repeat purchase
    .def = Share of the period's buyers with two or more purchases.
report-frequent = Made more than 4 purchases
    .def = Share of all customers on file with more than four purchases in the period.
report-top20 = Top 20% of buyers bring
    .def = Share of revenue from the fifth of buyers with the highest revenue.
report-buyers-60 = 60% of revenue comes from
    .def = The smallest share of buyers (biggest spenders first) that makes 60% of revenue.
report-no-card-sales = Sales without a card
    .def = Sales staff recorded without a customer card, and their total.

report-source-referral = Referral
report-source-campaign = Campaigns
report-source-source = Source links
report-source-staff = Staff
report-source-import = Import
report-source-walk_in = Walk-in

report-cert-birthday = birthday
report-cert-winback = win-back
report-cert-campaign = campaigns
report-cert-owner = by the owner

rfm-champions = Champions
    .def = Bought recently and often (R 4–5, F 4–5).
rfm-loyal = Loyal
    .def = Regular customers (R 3–5, F 3–5).
rfm-new = New
    .def = First purchase recently (R 4–5, F 1).
rfm-potential = Potential
    .def = Bought recently, not yet regular (R 3–5, F 1–2).
rfm-cant_lose = Can't lose them
    .def = Were the best customers, gone quiet (R 1–2, F 4–5, M 4–5).
rfm-at_risk = At risk
    .def = Were regular, gone quiet (R 1–2, F 3–5).
rfm-hibernating = Hibernating
    .def = Bought once or twice a while ago (R 2, F 1–2).
rfm-lost = Lost
    .def = Bought once or twice long ago (R 1, F 1–2).
rfm-none = Not buyers yet

chart-revenue-title = Revenue by month
chart-revenue-card = With the card
chart-revenue-no-card = Without a card
chart-revenue-axis = Revenue, ₽
chart-new-title = New customers by source
chart-new-axis = Customers
chart-rfm-title = RFM: recency × frequency (customers)
chart-rfm-r = R — recency (5 = recent)
chart-rfm-f = F — frequency (5 = often)
chart-referral-title = Referral depth
chart-referral-axis = Customers
chart-referral-generation = Generation
chart-funnel-title = Campaign funnels
chart-funnel-opened = Opened the link
chart-funnel-registered = Registered
chart-funnel-certificates = Certificates
chart-funnel-bought = Bought

xlsx-summary = Summary
xlsx-sources = Sources
xlsx-staff = Staff
xlsx-campaigns = Campaigns
xlsx-monthly = By month
xlsx-rfm = RFM
xlsx-movement = RFM movement
xlsx-referrals = Referrals
xlsx-certificates = Certificates
xlsx-figure = Figure
xlsx-value = Value
xlsx-definition = Definition
xlsx-name = Name
xlsx-code = Code
xlsx-month = Month
xlsx-customers = Customers
xlsx-count = Count
xlsx-points = Points
xlsx-revenue = Revenue, ₽
xlsx-average-check = Average check, ₽
xlsx-points-paid = Paid with points, ₽
xlsx-operations = Operations
xlsx-purchases = Card purchases
xlsx-no-card = Sales without a card
xlsx-no-card-revenue = Revenue without a card, ₽
xlsx-enrolled = Enrolled
xlsx-ratings = Ratings
xlsx-average-rating = Average rating
xlsx-segment = Segment
xlsx-before = Before
xlsx-after = Now
xlsx-generation = Generation
xlsx-kind = Kind
xlsx-opened = Opened the link
xlsx-registered = Registered
xlsx-certificates-issued = Certificates
xlsx-buyers = Bought
xlsx-cost = Cost, points
xlsx-digitised = With the card in Telegram
xlsx-new = New

# The scheduler's monthly message to the owners (models.reports.report.monthly_report_payload): the
# same short summary as /report, with the same figure names and the same two buttons.
report-monthly = 📊 Results for { $month }

    { report-revenue }: { MONEY($revenue) }
    { report-purchases }: { $purchases }
    { report-average-check }: { $purchases ->
        [0] —
       *[other] { MONEY($average) }
    }
    { report-new-customers }: { $new }
    { report-return-rate }: { $buyers ->
        [0] —
       *[other] { $returning }%
    }
    { report-points-paid }: { MONEY($points_paid) }
    { report-total-benefit }: { $benefit_state ->
        [none] { report-benefit-none }
        [negative] none: points paid { MONEY($shortfall) } more than a direct discount would have cost
       *[positive] { MONEY($benefit) }
    }

    Charts and the Excel workbook: /report

## /report in the bot
report-choose-period = Which period should the report cover?
report-period-month = This month
report-period-last-month = Last month
report-period-year = This year
report-period-last-year = Last year
report-period-all = All time
report-period-custom = Custom dates
report-custom-prompt = Send the period as “01.03.2026 - 31.03.2026”.
report-custom-bad = I could not read that period. Example: “01.03.2026 - 31.03.2026” — the first day, then the last.
report-working = Working out the report…
report-xlsx-caption = Every table of the report, in Excel (with what each figure means).
report-button-more = More details
report-button-definitions = What do these mean?
report-stale = This report button is out of date or damaged. Open /report and choose the period again.

## Charts and the workbook: axis labels and typed rows (issue 16, bot/report_render.py).
chart-month-axis = Month
chart-rfm-scale = Customers in the cell
chart-funnel-axis = Count (people or certificates)
chart-funnel-campaign = Campaign or source
xlsx-period-from = Period: from
xlsx-period-to = Period: to
xlsx-scope = Cohort
xlsx-share-of = { $name }: share of customers on file
xlsx-referred-bought = Of those referred, bought
xlsx-certificates-of-kind = Certificates: { $kind }
xlsx-average-card = Average check with the card
xlsx-average-no-card = Average check without a card
xlsx-no-card-total = Total of sales without a card
xlsx-with-card = With the card in Telegram
xlsx-card-revenue = Card revenue, ₽
xlsx-new-from = New: { $source }
xlsx-rfm-grid = F (frequency) \ R (recency)
