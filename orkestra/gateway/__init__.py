"""The admission gateway (``ork gateway``): the katalog's admission rules at ``kubectl apply``.

This package owns the HTTPS server the API server calls with AdmissionReview v1 requests
(``/validate``: the ``validation`` rules, deny and warn; ``/mutate``: the ``mutation``
rules as a JSONPatch; ``/protect``: deletion protection of CRs, CRDs and the gateway's own
Deployment, strictMode included), the webhook configurations that route requests to it
(``orkestra-admission-validation``, ``orkestra-admission-mutation``,
``orkestra-deletion-protection``), which it creates, updates and deletes as the patterns'
``security`` says, and its serving certificate and CA bundle, generated and rotated (or
taken from a Secret or files). It decides nothing of its own: rules are evaluated by
:func:`orkestra.engine.admission.admit`, the code the reconcile runs, so a rule denies
identically in simulate, in the runtime and at admission. It sits beside the runtime and
the embedded API server and imports neither; its few API calls go through lightkube's
client (see :mod:`orkestra.gateway.kube`) and its certificates are its own
(:mod:`orkestra.gateway.certs`).
"""

from orkestra.gateway.server import Gateway, Options
from orkestra.gateway.sources import FileCerts, GeneratedCerts, SecretCerts
from orkestra.gateway.targets import Targets

__all__ = ["FileCerts", "Gateway", "GeneratedCerts", "Options", "SecretCerts", "Targets"]
