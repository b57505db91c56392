"""The map widget: the SVG map, a hover/click tooltip with the cell's details, the page's URL.

A small ipyvue template: it shows the SVG (`sim.dashboard.svg`), reports the pointer's
position over it as fractions of the map's width and height (`pointer`, at most every 80 ms,
and at once on a click, which pins the tooltip), shows the tooltip the server sends back
(`tip`, HTML), and writes `url_query` into the browser's address bar with
`history.replaceState`, so a reload or a shared link reproduces the view without Solara
re-rendering the page for it.
"""

from __future__ import annotations

import ipyvuetify as ivu
import traitlets

TEMPLATE = """
<template>
  <div class="sahel-map" style="position:relative" @mousemove="move($event, false)"
       @click="move($event, true)" @mouseleave="leave">
    <div class="sahel-map-canvas" v-html="svg"></div>
    <div v-if="tip" class="sahel-map-tip" v-html="tip"
         :style="{position: 'absolute', left: tx + 'px', top: ty + 'px', zIndex: 4,
                  background: 'rgba(255,255,255,0.96)', border: '1px solid #777',
                  borderRadius: '4px', padding: '4px 8px', fontSize: '13px',
                  lineHeight: '17px', maxWidth: '330px', pointerEvents: 'none',
                  boxShadow: '0 1px 4px rgba(0,0,0,0.3)'}"></div>
  </div>
</template>
<script>
module.exports = {
  data() { return {last: 0, tx: 0, ty: 0}; },
  mounted() { this.applyUrl(this.url_query); },
  watch: { url_query(q) { this.applyUrl(q); } },
  methods: {
    applyUrl(q) {
      if (q && window.location.search !== '?' + q) {
        window.history.replaceState(window.history.state, '', '?' + q);
      }
    },
    move(e, pin) {
      const svg = this.$el.querySelector('svg');
      if (!svg) { return; }
      const box = svg.getBoundingClientRect();
      const root = this.$el.getBoundingClientRect();
      const x = e.clientX - root.left, y = e.clientY - root.top;
      this.tx = Math.max(0, Math.min(x + 14, root.width - 300));
      this.ty = y + 16 > root.height - 150 ? Math.max(0, y - 150) : y + 16;
      const now = Date.now();
      if (!pin && now - this.last < 80) { return; }
      this.last = now;
      this.pointer = {fx: (e.clientX - box.left) / box.width,
                      fy: (e.clientY - box.top) / box.height, pin: pin, t: now};
    },
    leave() { this.pointer = {leave: true, t: Date.now()}; },
  },
};
</script>
"""


class MapWidget(ivu.VuetifyTemplate):  # type: ignore[misc]
    """The map with its tooltip; `pointer` comes from the browser, the rest goes to it."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    svg = traitlets.Unicode("").tag(sync=True)
    tip = traitlets.Unicode("").tag(sync=True)
    pointer = traitlets.Dict({}).tag(sync=True)
    url_query = traitlets.Unicode("").tag(sync=True)
