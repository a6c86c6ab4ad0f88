import { Route, Routes } from 'react-router';
import { MonitoringPage } from './Monitors';
import { MonitorPage } from './Monitor';
import { MonitorRunPage } from './Run';

/** /monitoring, /monitoring/monitors/:id and /monitoring/monitors/:id/runs/:runId, loaded together on first use (they carry uPlot). */
export default function MonitoringRoutes() {
  return (
    <Routes>
      <Route index element={<MonitoringPage />} />
      <Route path="monitors/:id" element={<MonitorPage />} />
      <Route path="monitors/:id/runs/:runId" element={<MonitorRunPage />} />
    </Routes>
  );
}
