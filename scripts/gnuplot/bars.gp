# bars.gp: a chart of one bar panel: chart 2 (throughput per model, one bar
# per deployment) and chart 4 (throughput per deployment, one bar per
# client region). Set by loadgen: what bars_panel.gp needs.
load scripts."/common.gp"
# Below the plot, the legend can never hide a bar.
keyplace = "set key bmargin center horizontal noopaque nobox"
load scripts."/bars_panel.gp"
