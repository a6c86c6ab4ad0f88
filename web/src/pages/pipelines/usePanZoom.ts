import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';

/** Where the content is drawn: scaled by k, then moved by (x, y) pixels of the viewport. */
export interface View {
  k: number;
  x: number;
  y: number;
}

/** Never zoomed in beyond this, nor out beyond the smaller of the fitted scale and MIN_K. */
const MAX_K = 2.5;
const MIN_K = 0.25;
/** Each button press zooms by this factor. */
const STEP = 1.25;
/** A pointer that moves less than this is a click, not a drag. */
const DRAG_PX = 4;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The view that shows all of a w×h content inside a vw×vh viewport, centred, never enlarged. */
export function fitView(w: number, h: number, vw: number, vh: number, pad = 8): View {
  const k = Math.min(1, (vw - 2 * pad) / w, (vh - 2 * pad) / h);
  const safe = Number.isFinite(k) && k > 0 ? k : 1;
  return { k: safe, x: (vw - w * safe) / 2, y: (vh - h * safe) / 2 };
}

/** The view zoomed to scale k about the viewport point (px, py), which stays where it is. */
export function zoomAbout(v: View, k: number, px: number, py: number): View {
  return { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
}

/**
 * Pan and zoom of a content of a given size inside a viewport element: fitted on load, on resize
 * and when the content changes size, until the user zooms or drags; wheel (and trackpad pinch,
 * which browsers send as a wheel with ctrlKey) zooms at the pointer; drag pans; two fingers pinch.
 */
export function usePanZoom(viewport: RefObject<HTMLElement | null>, width: number, height: number) {
  const [view, setView] = useState<View>({ k: 1, x: 0, y: 0 });
  /** Whether the view follows the viewport's size (until the user moves it). */
  const fitted = useRef(true);
  const viewRef = useRef(view);
  viewRef.current = view;

  const bounds = useCallback(() => {
    const el = viewport.current;
    return el ? { vw: el.clientWidth, vh: el.clientHeight } : { vw: width, vh: height };
  }, [viewport, width, height]);
  const minK = useCallback(() => {
    const { vw, vh } = bounds();
    return Math.min(MIN_K, fitView(width, height, vw, vh).k);
  }, [bounds, width, height]);

  const fit = useCallback(() => {
    const { vw, vh } = bounds();
    fitted.current = true;
    setView(fitView(width, height, vw, vh));
  }, [bounds, width, height]);

  const zoomTo = useCallback(
    (k: number, at?: { x: number; y: number }) => {
      const { vw, vh } = bounds();
      const p = at ?? { x: vw / 2, y: vh / 2 };
      fitted.current = false;
      setView((v) => zoomAbout(v, clamp(k, minK(), MAX_K), p.x, p.y));
    },
    [bounds, minK],
  );
  const zoomIn = useCallback(() => zoomTo(viewRef.current.k * STEP), [zoomTo]);
  const zoomOut = useCallback(() => zoomTo(viewRef.current.k / STEP), [zoomTo]);

  // Fit before the first paint, and again whenever the viewport or the content changes size while fitted.
  useLayoutEffect(() => {
    fit();
    const el = viewport.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (fitted.current) fit();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [fit, viewport]);

  // React's wheel listener is passive; zooming must stop the page from scrolling, so this one is not.
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const lines = e.deltaMode === 1 ? 16 : 1;
      zoomTo(viewRef.current.k * Math.exp(-e.deltaY * lines * (e.ctrlKey ? 0.01 : 0.0015)), { x: e.clientX - r.left, y: e.clientY - r.top });
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [viewport, zoomTo]);

  // Pointers down on the viewport: one drags, two pinch. A drag swallows the click that ends it, so a node under it is not selected.
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const pointers = new Map<number, { x: number; y: number }>();
    let start: { x: number; y: number; view: View } | null = null;
    let pinch: { distance: number; view: View } | null = null;
    let dragged = false;
    const local = (e: PointerEvent) => {
      const r = el.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const spread = () => {
      const [a, b] = [...pointers.values()] as [{ x: number; y: number }, { x: number; y: number }];
      return { distance: Math.hypot(a.x - b.x, a.y - b.y), mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
    };
    const down = (e: PointerEvent) => {
      if (e.button !== 0 || (e.target as Element).closest('.pl-dag-controls')) return;
      pointers.set(e.pointerId, local(e));
      dragged = false;
      if (pointers.size === 1) start = { ...local(e), view: viewRef.current };
      if (pointers.size === 2) pinch = { distance: spread().distance, view: viewRef.current };
    };
    const move = (e: PointerEvent) => {
      if (!pointers.has(e.pointerId)) return;
      pointers.set(e.pointerId, local(e));
      if (pinch && pointers.size === 2) {
        const { distance, mid } = spread();
        fitted.current = false;
        dragged = true;
        setView(zoomAbout(pinch.view, clamp((pinch.view.k * distance) / Math.max(1, pinch.distance), minK(), MAX_K), mid.x, mid.y));
        return;
      }
      if (!start) return;
      const p = local(e);
      if (!dragged && Math.hypot(p.x - start.x, p.y - start.y) < DRAG_PX) return;
      if (!dragged) el.setPointerCapture(e.pointerId);
      dragged = true;
      fitted.current = false;
      setView({ ...start.view, x: start.view.x + p.x - start.x, y: start.view.y + p.y - start.y });
    };
    const up = (e: PointerEvent) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
      if (pointers.size === 0) start = null;
    };
    const click = (e: MouseEvent) => {
      if (dragged) {
        e.stopPropagation();
        e.preventDefault();
        dragged = false;
      }
    };
    el.addEventListener('pointerdown', down);
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
    el.addEventListener('click', click, true);
    return () => {
      el.removeEventListener('pointerdown', down);
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
      el.removeEventListener('click', click, true);
    };
  }, [viewport, minK]);

  return { view, fit, zoomIn, zoomOut, canZoomIn: view.k < MAX_K - 1e-6, canZoomOut: view.k > minK() + 1e-6 };
}
