# bars_panel.gp: one panel of grouped bars with min-max error bars and values
# written above them (bars.gp and cost.gp load it; in chart 4 a percent
# difference is written above each bar of a second region).
# Set by loadgen:
#   data        one block per series: x, mean, min, max, value text,
#               colour (0xRRGGBB), percent text, percent height ("?" for
#               no percent: gnuplot skips the label)
#   n, alpha[n] series count and each series' fill opacity
#   nkey, keyname[nkey], keycolor[nkey], keyalpha[nkey]  legend entries
#   ngroups, tic[ngroups]  the groups' names, at x = 0..ngroups-1 (as tic
#               labels are formats, a '%' in a name comes doubled)
#   panel_title, ylabel_text, yformat, logy, ybase, ytop, barwidth
#   keyplace    a command placing the legend (or `unset key`)
#   vertical    1 when the bars are too narrow for level text above them
#               (loadgen then writes the percent into the value text)
set title panel_title
set ylabel ylabel_text
set format y yformat
# Names from the results are only ever values: never eval'ed or @-expanded.
set xtics (tic[1] 0)
do for [k=2:ngroups] { set xtics add (tic[k] k-1) }
set xtics scale 0 nomirror
set grid noxtics ytics
if (logy) { set logscale y 10 } else { unset logscale y }
set yrange [ybase:ytop]
set xrange [-0.55:ngroups - 0.45]
if (vertical) { valueopts = "rotate by 90 left offset 0,0.5" } else { valueopts = "center offset 0,0.6" }
eval keyplace
plot for [i=1:n] data index (i-1) using 1:2:($1-barwidth/2):($1+barwidth/2):(ybase):2:6 \
        with boxxyerror fs transparent solid alpha[i] border rgb "#303030" lc rgb variable notitle, \
     for [i=1:n] data index (i-1) using 1:3:(0):($4 > $3 ? $4 - $3 : NaN) \
        with vectors heads size screen 0.006,90 lw 1.5 lc rgb "#303030" notitle, \
     for [i=1:n] data index (i-1) using 1:4:5 with labels @valueopts font ",11" notitle, \
     for [i=1:n] data index (i-1) using 1:8:7 with labels offset 0,1.6 font ",11" tc rgb "#b00000" notitle, \
     for [k=1:nkey] NaN with boxes fs transparent solid keyalpha[k] border rgb "#303030" \
        lc rgb keycolor[k] title keyname[k]
