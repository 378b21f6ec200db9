// A small line chart on a canvas: several series over time, y from 0 to the largest value shown.
// No library: the dashboard loads nothing from outside the gateway.
"use strict";

class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{key: string, label: string, color: string}[]} series
   * @param {(v: number) => string} format  y-axis label format
   */
  constructor(canvas, series, format) {
    this.canvas = canvas;
    this.series = series;
    this.format = format;
    this.points = [];
  }

  /** Draws the points ({t, ...values}), oldest first; the canvas says how many it shows (data-points). */
  draw(points) {
    this.points = points;
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 110;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    const g = canvas.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    canvas.dataset.points = String(points.length);

    const left = 46, right = 6, top = 6, bottom = 16;
    const plotW = width - left - right, plotH = height - top - bottom;
    let max = 0;
    for (const p of points) {
      for (const s of this.series) {
        max = Math.max(max, p[s.key] || 0);
      }
    }
    max = max <= 0 ? 1 : niceCeiling(max);
    canvas.dataset.max = String(max);

    g.strokeStyle = "#e5e7eb";
    g.fillStyle = "#6b7280";
    g.font = "10px system-ui, sans-serif";
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = top + plotH - (plotH * i) / 2;
      g.beginPath();
      g.moveTo(left, y + 0.5);
      g.lineTo(left + plotW, y + 0.5);
      g.stroke();
      g.fillText(this.format((max * i) / 2), 2, y + 3);
    }
    if (points.length === 0) {
      g.fillText("waiting for samples…", left + 8, top + plotH / 2);
      return;
    }

    const t0 = points[0].t, t1 = points[points.length - 1].t;
    const span = Math.max(t1 - t0, 1);
    g.fillText(timeLabel(t0), left, height - 3);
    const last = timeLabel(t1);
    g.fillText(last, left + plotW - g.measureText(last).width, height - 3);
    g.lineWidth = 1.5;
    for (const s of this.series) {
      g.strokeStyle = s.color;
      g.beginPath();
      points.forEach((p, i) => {
        const x = left + (points.length === 1 ? plotW : (plotW * (p.t - t0)) / span);
        const y = top + plotH - (plotH * (p[s.key] || 0)) / max;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
  }

  /** A legend element for the chart's series. */
  legend() {
    const div = document.createElement("div");
    div.className = "legend";
    for (const s of this.series) {
      const mark = document.createElement("i");
      mark.style.background = s.color;
      div.append(mark, document.createTextNode(s.label));
    }
    return div;
  }
}

function niceCeiling(value) {
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

function timeLabel(t) {
  return new Date(t).toISOString().substring(11, 19);
}

window.LineChart = LineChart;
