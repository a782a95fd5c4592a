// Posts the SAML Response to the service provider at once; without scripts, the button does.
"use strict";
document.getElementById("saml-post").submit();
