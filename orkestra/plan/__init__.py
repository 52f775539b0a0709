"""What a pattern will do to a cluster: everything it can create (``objects``), which of it
the author's simulate assertions prove (``proof``), the permissions the runtime needs for it
(``rbac``), what changed between two versions and how risky that is (``diff``, ``risks``,
``ork plan``), and the deployable bundle of least-privilege RBAC plus the merged katalog
ConfigMap (``bundle``, ``ork generate bundle``)."""
