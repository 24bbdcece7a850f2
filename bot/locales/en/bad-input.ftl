## Input that cannot be taken (issue 14, section 4): digits other than 0–9, limits, damaged files.
## HTML parse mode.

input-digits = Please type the number with the ordinary digits 0–9: digits of other scripts (such as ١٢٣ or １２３) are not accepted.
staff-amount-digits = Please type the amount with the ordinary digits 0–9, for example 12 250: digits of other scripts (١٢٣, １２３) are not accepted.
owner-adjust-too-large = One adjustment can add or take away at most { $max } pts (limits.max_reward_points in the program).

## Importing a base (/import): files that cannot be read

import-file-unsafe-xlsx = This Excel workbook declares XML entities — Excel never writes them, this is what “bomb” files look like. The file was not taken: save the table again from Excel or send a CSV.
import-file-no-sheets = The Excel workbook has no sheet with data. Save the table with the customers' sheet, or send a CSV.
import-file-cell-too-long = Line { $line }: a cell is longer than 128 KB — usually a quote “"” that is never closed. Fix that line and send the file again.
import-file-bad-csv = Line { $line } cannot be read as CSV. Check the quotes on that line, or save the table again.
