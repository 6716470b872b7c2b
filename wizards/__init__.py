from . import portal_wizard_user, random_password_mail, random_password_mail_line
