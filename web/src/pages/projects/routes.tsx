import { Route, Routes } from 'react-router';
import { ProjectsPage } from './Projects';
import { ProjectPage } from './Project';

/** /projects and /projects/:name, loaded together on first use (one lazy import keeps the main bundle small). */
export default function ProjectRoutes() {
  return (
    <Routes>
      <Route index element={<ProjectsPage />} />
      <Route path=":name" element={<ProjectPage />} />
    </Routes>
  );
}
