# The optimization sweep's heat map (scripts/sweep.sh, docs/optimization.md): Sharpe ratio per
# (fast, slow) SMA pair. Called with -e "datafile=...; outfile=...; xtics_spec='(\"3\" 0, ...)';
# ytics_spec=...; nx=N; ny=M; subtitle='...'". datafile rows: fast index, slow index, Sharpe (NaN
# where the pair was not run: fast >= slow, drawn as an empty cell).
# The colour scale: symmetric around zero (red below, white at zero, blue above). Computed
# before any range is set, because stats honours the ranges.
stats datafile using 3 nooutput
m = (abs(STATS_min) > abs(STATS_max) ? abs(STATS_min) : abs(STATS_max))
m = (m > 0 ? m : 1)
set terminal svg size 900,720 dynamic font "sans,12" background "white"
set output outfile
set title sprintf("Sharpe ratio per SMA pair\n{/*0.8 %s}", subtitle)
set xlabel "fast SMA period (bars)"
set ylabel "slow SMA period (bars)"
set xrange [-0.5:nx - 0.5]
set yrange [-0.5:ny - 0.5]
eval "set xtics " . xtics_spec
eval "set ytics " . ytics_spec
set tics nomirror scale 0
set cblabel "Sharpe (annualised)"
set cbrange [-m:m]  # symmetric: zero is white
set palette defined (-1 "#b2182b", -0.5 "#ef8a62", 0 "#f7f7f7", 0.5 "#67a9cf", 1 "#2166ac")
unset key
# Pairs not run show the grey behind the image.
set object 1 rectangle from graph 0,0 to graph 1,1 behind fillcolor rgb "#d9d9d9" fillstyle solid noborder
plot datafile using 1:2:3 with image, \
     datafile using 1:2:(strcol(3) eq "NaN" ? "" : sprintf("%.2f", $3)) with labels font "sans,10"
