# cost.gp: chart 3, two bar panels side by side: images per dollar (more
# is better) and cost per 1000 images (less is better), grouped per model,
# one bar per deployment.
# Set by loadgen: what bars_panel.gp needs, with the per-panel variables
# twice (data1/data2, ylabel1/ylabel2, yformat1/2, ytop1/2, ybase1/2,
# vertical1/2, title1/title2), and chart_title.
load scripts."/common.gp"
set multiplot layout 1,2 title chart_title font ",18"
# One legend for both panels, centred under them.
set bmargin 5
keyplace = "set key at screen 0.5, screen 0.01 center bottom horizontal noopaque nobox"
data = data1; ylabel_text = ylabel1; yformat = yformat1; ytop = ytop1; ybase = ybase1
vertical = vertical1; panel_title = title1
load scripts."/bars_panel.gp"
keyplace = "unset key"
data = data2; ylabel_text = ylabel2; yformat = yformat2; ytop = ytop2; ybase = ybase2
vertical = vertical2; panel_title = title2
load scripts."/bars_panel.gp"
unset multiplot
