"""Charts read as people expect: whole years, whole counts, plain log ticks, a legend for two y axes (no Spark)."""

from __future__ import annotations

from orbiter_lake import charts


def _labels(axis) -> list[str]:
    axis.figure.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_fireball_chart_has_whole_years_and_plain_log_ticks():
    rows = [
        {"year": 2024, "total_radiated_energy_e10j": 640.0},
        {"year": 2025, "total_radiated_energy_e10j": 2.5},
    ]
    chart = charts.fireball_energy(rows)
    ax = chart.figure.axes[0]
    years = _labels(ax.xaxis)
    assert years and all(y.lstrip("−-").isdigit() for y in years), years
    assert "2024" in years and "2025" in years
    ticks = _labels(ax.yaxis)
    assert ticks and not any("^" in t or "times" in t for t in ticks), ticks
    charts.close([chart])


def test_count_axes_step_by_whole_numbers():
    rows = [
        {"category_title": "Wildfires", "active_events": 2},
        {"category_title": "Volcanoes", "active_events": 1},
    ]
    chart = charts.natural_events(rows)
    ticks = _labels(chart.figure.axes[0].yaxis)
    assert ticks and all(float(t.replace("−", "-")).is_integer() for t in ticks), ticks
    charts.close([chart])


def test_meteorites_by_decade_names_both_series():
    rows = [
        {"decade": 1900, "landings": 12, "total_mass_g": 5_000_000.0},
        {"decade": 1910, "landings": 30, "total_mass_g": 120_000.0},
    ]
    chart = charts.meteorites_decade(rows)
    legend = chart.figure.axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["landings", "total mass (kg, right axis)"]
    charts.close([chart])
