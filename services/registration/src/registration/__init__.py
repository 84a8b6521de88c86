"""The ODB register: applications for trainings that give right to the Flemish training incentives."""
