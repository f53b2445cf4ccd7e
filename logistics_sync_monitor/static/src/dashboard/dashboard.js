/** @odoo-module **/
import { Component, onMounted, onPatched, onWillStart, onWillUnmount, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const COLORS = ["#017e84", "#e4a900", "#d44c59", "#714b67", "#3b82f6", "#4b5563"];

/**
 * The Logistics Sync dashboard (client action ``logistics_sync_dashboard``): tiles that open
 * the records behind their figure, and hourly graphs of the last days drawn with the
 * Chart.js bundled in Odoo's web client. Every figure comes from one server call,
 * ``logistics.sync.dashboard.get_data(page)``.
 */
export class LogisticsSyncDashboard extends Component {
    static template = "logistics_sync_monitor.Dashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.root = useRef("root");
        this.page = this.props.action.params?.page || "staff";
        this.state = useState({ data: null, loading: true });
        this.charts = [];
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        onMounted(() => this.renderCharts());
        onPatched(() => this.renderCharts());
        onWillUnmount(() => this.destroyCharts());
    }

    async load() {
        this.state.loading = true;
        this.state.data = await this.orm.call("logistics.sync.dashboard", "get_data", [this.page]);
        this.state.loading = false;
    }

    async refresh() {
        await this.load();
    }

    open(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    trend(tile) {
        if (tile.previous === undefined || tile.previous === null || tile.value === null) {
            return "";
        }
        if (tile.value > tile.previous) {
            return "up";
        }
        return tile.value < tile.previous ? "down" : "same";
    }

    fmt(value) {
        return value === null || value === undefined ? "-" : value;
    }

    shortHour(label) {
        return label.slice(5, 13).replace(" ", " ") + "h";
    }

    destroyCharts() {
        for (const chart of this.charts) {
            chart.destroy();
        }
        this.charts = [];
    }

    renderCharts() {
        this.destroyCharts();
        if (!this.state.data || !this.root.el) {
            return;
        }
        for (const series of this.state.data.series) {
            const canvas = this.root.el.querySelector(`canvas[data-key='${series.key}']`);
            if (!canvas) {
                continue;
            }
            this.charts.push(
                new window.Chart(canvas, {
                    type: "line",
                    data: {
                        labels: series.labels.map((label) => this.shortHour(label)),
                        datasets: series.lines.map((line, index) => ({
                            label: line.label,
                            data: line.data,
                            borderColor: COLORS[index % COLORS.length],
                            backgroundColor: COLORS[index % COLORS.length],
                            pointRadius: 0,
                            borderWidth: 1.5,
                            tension: 0.2,
                        })),
                    },
                    options: {
                        animation: false,
                        maintainAspectRatio: false,
                        interaction: { mode: "index", intersect: false },
                        scales: { x: { ticks: { maxTicksLimit: 8 } }, y: { beginAtZero: true } },
                    },
                })
            );
        }
    }
}

registry.category("actions").add("logistics_sync_dashboard", LogisticsSyncDashboard);
