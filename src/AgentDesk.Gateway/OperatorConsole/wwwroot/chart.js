// A price chart per symbol, drawn by hand as an SVG polyline over the points the console has polled.
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 90;
const PAD = 6;

export function renderChart(symbol, points) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.dataset.testid = `chart-${symbol}`;
  const last = points[points.length - 1]?.p;
  const first = points[0]?.p;
  const change = first ? ((last - first) / first) * 100 : 0;
  const head = document.createElement('div');
  head.className = 'head';
  const name = document.createElement('strong');
  name.textContent = symbol;
  const value = document.createElement('span');
  value.className = change > 0 ? 'up' : change < 0 ? 'down' : 'muted';
  value.textContent = `${Number(last).toLocaleString('en-US', { maximumFractionDigits: 6 })} (${change >= 0 ? '+' : ''}${change.toFixed(2)}%)`;
  head.append(name, value);

  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${symbol} price`);
  const values = points.map((point) => point.p);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || Math.abs(high) * 0.01 || 1;
  const step = points.length > 1 ? (WIDTH - 2 * PAD) / (points.length - 1) : 0;
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('class', 'line');
  line.setAttribute('points', points
    .map((point, i) => `${(PAD + i * step).toFixed(1)},${(HEIGHT - PAD - ((point.p - low) / span) * (HEIGHT - 2 * PAD)).toFixed(1)}`)
    .join(' '));
  svg.append(line);
  box.append(head, svg);
  return box;
}
