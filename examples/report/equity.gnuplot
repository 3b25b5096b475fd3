# The demo's equity chart (scripts/demo.sh): account equity, PnL per portfolio, drawdown, one
# SVG. Called as
#   gnuplot -e "dir='results/classifier_first'; title='classifier_first'; portfolios=3" \
#           examples/report/equity.gnuplot
# reading dir/equity.csv and dir/pnl_by_portfolio.csv (the performance tracker's output) and
# writing dir/equity.svg.
set terminal svg size 1000,760 dynamic noenhanced font "Helvetica,12" background rgb "white"
set output dir."/equity.svg"
set datafile separator ","
set xdata time
set timefmt "%Y-%m-%d"
set format x "%Y-%m"
set grid lc rgb "#dddddd"
set key top left box opaque
set offsets graph 0, 0, 0.05, 0.05

set multiplot layout 3,1 title "evrouter backtest demo: ".title
set lmargin 12
set ylabel "equity"
set format y "%'.0f"
plot dir."/equity.csv" using 1:2 with lines lw 2 lc rgb "#1f77b4" title "account equity"

set ylabel "PnL"
plot for [i=2:portfolios+1] dir."/pnl_by_portfolio.csv" using 1:i with lines lw 1.5 title columnheader(i)

set ylabel "drawdown %"
set format y "%.0f"
plot dir."/equity.csv" using 1:5 with filledcurves y1=0 lc rgb "#d62728" fs transparent solid 0.4 title "drawdown from peak"
unset multiplot
